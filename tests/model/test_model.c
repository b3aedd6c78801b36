/* Model loader tests: valid tiny models and every getter, F16 weights, a
 * corpus of malformed files (each with its exact status and a message naming
 * the problem), seeded bit flips, and the API's error paths.
 *
 *   test_model                      run the tests
 *   test_model --write-seeds DIR    write fuzzing seeds built by the builder */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "gatedinpaint.h"
#include "gguf_builder.h"
#include "common/gguf.h"
#include "families/deepfill_v2.h"
#include "families/pconv_unet.h"
#include "model/model.h"
#include "api/session.h"


/* Load from memory and expect `want`; on an error the message must contain
 * every `|`-free substring in `needles` (separated by '|'), so a test can
 * ask for both the problem and the thing it concerns. */
/* The DeepFill v2 state of a loaded model (the family's part of it). */
static const gi_deepfill *df(const gi_model *m) { return m->state; }

static void expect_bytes(const char *label, const uint8_t *data, size_t size,
                         gi_status want, const char *needles) {
    gi_model *m = (gi_model *)&m; /* must be overwritten */
    gi_status st = gi_model_load_memory(data, size, &m);
    CHECK(st == want, "%s: status %d (%s), want %d; message: %s", label, (int)st,
          gi_status_string(st), (int)want, gi_last_error());
    if (st == GI_OK) {
        CHECK(m != NULL, "%s: no model on success", label);
        gi_model_release(m);
        return;
    }
    CHECK(m == NULL, "%s: *out not NULL on failure", label);
    const char *msg = gi_last_error();
    CHECK(strncmp(msg, "gi_model_load_memory: ", 22) == 0,
          "%s: message lacks the function prefix: %s", label, msg);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", needles);
    for (char *save = NULL, *tok = strtok_r(tmp, "|", &save); tok;
         tok = strtok_r(NULL, "|", &save))
        CHECK(strstr(msg, tok) != NULL, "%s: message '%s' lacks '%s'", label, msg,
              tok);
}

static void expect_file(const char *label, const tb_file *f, gi_status want,
                        const char *needles) {
    size_t size;
    uint8_t *data = tb_serialize(f, &size, NULL);
    expect_bytes(label, data, size, want, needles);
    free(data);
}

static gi_model *load_ok(const tb_file *f) {
    size_t size;
    uint8_t *data = tb_serialize(f, &size, NULL);
    gi_model *m = NULL;
    gi_status st = gi_model_load_memory(data, size, &m);
    free(data);
    CHECK(st == GI_OK, "valid model rejected: %s", gi_last_error());
    return m;
}

static int64_t expected_params(int width, int guide) {
    gi_layer_spec s[GI_DF_NUM_LAYERS];
    gi_deepfill_layer_specs(width, guide, s);
    int64_t n = 0;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++)
        n += (int64_t)s[i].cconv * s[i].cin * s[i].k * s[i].k + s[i].cconv;
    return n;
}

/* Every weight and bias equals the builder's value (F32 and F16 alike). */
static void check_weights(const char *label, const gi_model *m, const tb_file *f) {
    int bad = 0;
    for (int i = 0; i < GI_DF_NUM_LAYERS && !bad; i++) {
        const gi_layer_spec *s = &df(m)->layers[i];
        char name[96];
        snprintf(name, sizeof name, "%s.weight", s->name);
        const tb_tensor *tw = tb_find_tensor((tb_file *)f, name);
        snprintf(name, sizeof name, "%s.bias", s->name);
        const tb_tensor *tbias = tb_find_tensor((tb_file *)f, name);
        int64_t nw = (int64_t)s->cconv * s->cin * s->k * s->k;
        for (int64_t e = 0; e < nw && !bad; e++)
            bad = df(m)->convs[i].weight[e] != tb_value(tw->seed, (uint64_t)e);
        for (int64_t e = 0; e < s->cconv && !bad; e++)
            bad = df(m)->convs[i].bias[e] != tb_value(tbias->seed, (uint64_t)e);
        CHECK(!bad, "%s: layer %s has wrong values", label, s->name);
        CHECK(((uintptr_t)df(m)->convs[i].weight & 63) == 0 && ((uintptr_t)df(m)->convs[i].bias & 63) == 0,
              "%s: layer %s not 64-byte aligned", label, s->name);
    }
}

static void test_valid(void) {
    tb_file *f = tb_model(8, 0, 0);
    gi_model *m = load_ok(f);
    if (m) {
        const char *s = NULL;
        int64_t v = -1;
        CHECK(m->info.aggregates == 1, "deepfill_v2 has an attention layer to aggregate with");
        static const struct { int32_t prop; const char *want; } strs[] = {
            {GI_MODEL_FAMILY, "deepfill_v2"},
            {GI_MODEL_NAME, "tiny test model"},
            {GI_MODEL_LICENSE, "CC0-1.0"},
            {GI_MODEL_SOURCE_URL, "https://example.invalid/tiny"},
            {GI_MODEL_CHANNEL_ORDER, "rgb"},
            {GI_MODEL_INPUT_FILL, "zeros"},
        };
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
            CHECK(gi_model_get_string(m, strs[i].prop, &s) == GI_OK &&
                      strcmp(s, strs[i].want) == 0,
                  "string property %d", (int)strs[i].prop);
        }
        static const struct { int32_t prop; int64_t want; } ints[] = {
            {GI_MODEL_WIDTH, 8}, {GI_MODEL_GUIDE_CHANNELS, 0}, {GI_MODEL_ARCH_VERSION, 1},
            {GI_MODEL_RESIDUAL, 0}};
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
            CHECK(gi_model_get_int(m, ints[i].prop, &v) == GI_OK && v == ints[i].want,
                  "int property %d is %" PRId64, (int)ints[i].prop, v);
        CHECK(gi_model_get_int(m, GI_MODEL_PARAM_COUNT, &v) == GI_OK &&
                  v == expected_params(8, 0),
              "param_count %" PRId64 ", want %" PRId64, v, expected_params(8, 0));
        CHECK(df(m)->bgr == 0 && df(m)->fuse == 1 && df(m)->softmax_scale == 10.0f,
              "bgr/fuse/softmax_scale %d %d %g", df(m)->bgr, df(m)->fuse, (double)df(m)->softmax_scale);
        CHECK(atomic_load(&m->refs) == 1, "fresh model has %d references",
              atomic_load(&m->refs));
        int null_packed = 1;
        for (int i = 0; i < GI_KERNEL_TABLES; i++) null_packed &= df(m)->packed.slot[i] == NULL;
        CHECK(null_packed, "packed[] not NULL");
        CHECK(m->family == &gi_family_deepfill_v2, "family table entry");
        CHECK(df(m)->layers[GI_DF_conv1].cin == 5 && df(m)->layers[GI_DF_conv1].cconv == 8,
              "layer table not filled");
        check_weights("f32 width 8", m, f);

        /* getter error paths: wrong kind, unknown property, NULLs */
        CHECK(gi_model_get_string(m, GI_MODEL_WIDTH, &s) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "gi_model_get_string") &&
                  strstr(gi_last_error(), "gi_model_get_int"),
              "get_string on an int property: %s", gi_last_error());
        CHECK(gi_model_get_int(m, GI_MODEL_NAME, &v) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "gi_model_get_string"),
              "get_int on a string property: %s", gi_last_error());
        CHECK(gi_model_get_string(m, 999, &s) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "unknown property 999"),
              "unknown string property: %s", gi_last_error());
        CHECK(gi_model_get_int(m, -3, &v) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "unknown property -3"),
              "unknown int property: %s", gi_last_error());
        CHECK(gi_model_get_string(NULL, GI_MODEL_NAME, &s) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "gi_model_get_string: m is NULL"),
              "get_string(NULL): %s", gi_last_error());
        CHECK(gi_model_get_string(m, GI_MODEL_NAME, NULL) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "out is NULL"),
              "get_string out NULL: %s", gi_last_error());
        CHECK(gi_model_get_int(NULL, GI_MODEL_WIDTH, &v) == GI_E_INVALID_ARG &&
                  strstr(gi_last_error(), "gi_model_get_int: m is NULL"),
              "get_int(NULL): %s", gi_last_error());
        CHECK(gi_model_get_int(m, GI_MODEL_WIDTH, NULL) == GI_E_INVALID_ARG,
              "get_int out NULL");

        /* reference counting */
        CHECK(gi_model_retain(m) == m && atomic_load(&m->refs) == 2, "retain");
        gi_model_release(m);
        CHECK(atomic_load(&m->refs) == 1, "release to 1");
        gi_model_release(m); /* frees; ASan runs would catch a leak or reuse */
    }
    tb_free(f);

    /* guide channel, BGR, optional keys absent or set, width 4 */
    f = tb_model(4, 1, 0);
    tb_set_str(f, "gatedinpaint.channel_order", "bgr");
    tb_remove_kv(f, "gatedinpaint.attention.fuse");
    tb_remove_kv(f, "gatedinpaint.attention.softmax_scale");
    tb_remove_kv(f, "general.source_url");
    tb_remove_kv(f, "general.alignment"); /* default 32 */
    f->alignment = 32;
    m = load_ok(f);
    if (m) {
        const char *s = NULL;
        int64_t v = -1;
        CHECK(df(m)->bgr == 1 && df(m)->fuse == 1 && df(m)->softmax_scale == 10.0f,
              "bgr model: bgr %d fuse %d scale %g", df(m)->bgr, df(m)->fuse,
              (double)df(m)->softmax_scale);
        CHECK(gi_model_get_string(m, GI_MODEL_SOURCE_URL, &s) == GI_OK && s &&
                  s[0] == '\0', "absent source_url must read as \"\"");
        CHECK(gi_model_get_string(m, GI_MODEL_CHANNEL_ORDER, &s) == GI_OK &&
                  strcmp(s, "bgr") == 0, "channel order bgr");
        CHECK(gi_model_get_int(m, GI_MODEL_GUIDE_CHANNELS, &v) == GI_OK && v == 1,
              "guide channels");
        CHECK(df(m)->layers[GI_DF_conv1].cin == 6, "conv1 has 6 inputs with a guide");
        CHECK(gi_model_get_int(m, GI_MODEL_PARAM_COUNT, &v) == GI_OK &&
                  v == expected_params(4, 1), "param count with guide");
        check_weights("f32 width 4 guide", m, f);
        gi_model_release(m);
    }
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_set_bool(f, "gatedinpaint.attention.fuse", 0);
    tb_set_f32(f, "gatedinpaint.attention.softmax_scale", 2.5f);
    m = load_ok(f);
    if (m) {
        CHECK(df(m)->fuse == 0 && df(m)->softmax_scale == 2.5f, "fuse off, scale 2.5");
        CHECK(df(m)->input_fill == GI_FILL_ZEROS, "no input_fill key: holes enter as 0");
        gi_model_release(m);
    }
    tb_free(f);

    /* gatedinpaint.working_size: read back; absent = 512; out of range refused */
    static const struct { uint32_t value; int ok; } ws[] = {{300, 1}, {64, 1}, {63, 0}, {9000, 0}};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        f = tb_model(4, 0, 0);
        tb_set_u32(f, "gatedinpaint.working_size", ws[i].value);
        size_t size;
        uint8_t *data = tb_serialize(f, &size, NULL);
        m = NULL;
        gi_status st = gi_model_load_memory(data, size, &m);
        int64_t v = -1;
        if (ws[i].ok)
            CHECK(st == GI_OK && gi_model_get_int(m, GI_MODEL_WORKING_SIZE, &v) == GI_OK &&
                      v == ws[i].value, "working_size %u read as %lld", ws[i].value, (long long)v);
        else
            CHECK(st == GI_E_BAD_MODEL && strstr(gi_last_error(), "working_size"),
                  "working_size %u accepted", ws[i].value);
        gi_model_release(m);
        free(data);
        tb_free(f);
    }
    f = tb_model(4, 0, 0);
    m = load_ok(f);
    if (m) {
        int64_t v = -1;
        CHECK(gi_model_get_int(m, GI_MODEL_WORKING_SIZE, &v) == GI_OK && v == 512,
              "absent working_size reads %lld", (long long)v);
        gi_model_release(m);
    }
    tb_free(f);

    /* arch_version 2: the hole pre-fill and residual keys, read back through the API */
    static const struct {
        int guide;
        const char *fill;
        int residual;
        int32_t want_fill;
    } v2[] = {
        {0, "pushpull", 0, GI_FILL_PUSHPULL},
        {0, "zeros", 1, GI_FILL_ZEROS},
        {1, "guided_pushpull", 0, GI_FILL_GUIDED_PUSHPULL},
        {1, "ring_warp", 1, GI_FILL_RING_WARP},
    };
    for (size_t i = 0; i < sizeof v2 / sizeof v2[0]; i++) {
        f = tb_model(4, v2[i].guide, 0);
        tb_set_u32(f, "gatedinpaint.arch_version", 2);
        tb_set_str(f, "gatedinpaint.input_fill", v2[i].fill);
        if (v2[i].residual) tb_set_bool(f, "gatedinpaint.residual", 1);
        m = load_ok(f);
        if (m) {
            int64_t ver = -1, res = -1;
            const char *s = NULL;
            CHECK(df(m)->input_fill == v2[i].want_fill && df(m)->residual == v2[i].residual,
                  "input_fill %s, residual %d", v2[i].fill, v2[i].residual);
            CHECK(gi_model_get_int(m, GI_MODEL_ARCH_VERSION, &ver) == GI_OK && ver == 2 &&
                      gi_model_get_int(m, GI_MODEL_RESIDUAL, &res) == GI_OK &&
                      res == v2[i].residual,
                  "%s: arch_version %" PRId64 ", residual %" PRId64, v2[i].fill, ver, res);
            CHECK(gi_model_get_string(m, GI_MODEL_INPUT_FILL, &s) == GI_OK &&
                      strcmp(s, v2[i].fill) == 0,
                  "input_fill property %s", s ? s : "(none)");
            gi_model_release(m);
        }
        tb_free(f);
    }
}

static void test_f16(void) {
    /* half->float, exhaustively against an independent formula */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u && bad < 5; h++) {
        float got = gi_half_to_float((uint16_t)h);
        uint32_t e = h >> 10 & 31, mant = h & 1023;
        double want = e == 0 ? ldexp(mant, -24)
                      : e == 31 ? (mant ? NAN : INFINITY)
                                : ldexp(1024 + mant, (int)e - 25);
        if (h & 0x8000) want = -want;
        uint32_t gb;
        memcpy(&gb, &got, 4);
        int ok = isnan(want) ? isnan(got) && (gb >> 13 & 1023) == mant &&
                                   (gb >> 31) == (h >> 15)
                             : (double)got == want && !signbit(got) == !signbit(want);
        if (!ok) bad++;
        CHECK(ok, "half 0x%04x -> %a, want %a", (unsigned)h, (double)got, want);
    }

    tb_file *f = tb_model(4, 0, 1); /* all F16 */
    gi_model *m = load_ok(f);
    if (m) {
        check_weights("f16", m, f);
        gi_model_release(m);
    }
    tb_free(f);
    f = tb_model(8, 1, 2); /* F32 and F16 alternating */
    m = load_ok(f);
    if (m) {
        check_weights("mixed f16/f32", m, f);
        gi_model_release(m);
    }
    tb_free(f);

    /* the official width: the reference's 4 052 478 parameters */
    f = tb_model(48, 0, 1);
    m = load_ok(f);
    if (m) {
        int64_t v = 0;
        CHECK(gi_model_get_int(m, GI_MODEL_PARAM_COUNT, &v) == GI_OK && v == 4052478,
              "width 48 has %" PRId64 " parameters, want 4052478", v);
        gi_model_release(m);
    }
    tb_free(f);
}

/* ---- malformed files ---------------------------------------------------- */

/* Serialize a valid model and overwrite `n` bytes at `at`. */
static void expect_patched(const char *label, size_t at, const void *bytes, size_t n,
                           gi_status want, const char *needles) {
    tb_file *f = tb_model(4, 0, 0);
    size_t size;
    uint8_t *data = tb_serialize(f, &size, NULL);
    memcpy(data + at, bytes, n);
    expect_bytes(label, data, size, want, needles);
    free(data);
    tb_free(f);
}

static void le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void test_container(void) {
    const gi_status BAD = GI_E_BAD_MODEL;
    uint8_t b[16];
    expect_patched("bad magic", 0, "GGUX", 4, BAD, "bad magic 'GGUX'");
    expect_patched("version 2", 4, "\2\0\0\0", 4, BAD, "GGUF version 2");
    le64(b, UINT64_C(1) << 40);
    expect_patched("tensor_count huge", 8, b, 8, BAD, "tensor_count 1099511627776");
    expect_patched("kv_count huge", 16, b, 8, BAD, "kv_count 1099511627776");
    le64(b, 4096);
    le64(b + 8, 4096);
    expect_patched("counts past the file", 8, b, 16, BAD, "truncated|cannot fit");
    expect_bytes("magic only", (const uint8_t *)"GGUF", 4, BAD, "truncated|header");
    expect_bytes("short magic", (const uint8_t *)"GG", 2, BAD, "bad magic");

    /* the first key is general.architecture: 24 + 8 + 20 + 4 bytes precede
     * its string length */
    le64(b, 1000000);
    expect_patched("string length past the end", 56, b, 8, BAD,
                   "truncated|general.architecture");
    le64(b, UINT64_C(1) << 60);
    expect_patched("string length absurd", 56, b, 8, BAD,
                   "general.architecture|exceeds the limit");
    le64(b, UINT64_C(1) << 62);
    expect_patched("key length absurd", 24, b, 8, BAD, "key #0|exceeds the limit");

    tb_file *f = tb_model(4, 0, 0);
    tb_set_raw(f, "test.unknown", 13, "\0\0\0\0", 4);
    expect_file("unknown kv type", f, BAD, "'test.unknown' has unknown value type 13");
    tb_free(f);

    static const uint8_t nested[] = {9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                     4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    f = tb_model(4, 0, 0);
    tb_set_raw(f, "test.nested", 9, nested, sizeof nested);
    expect_file("nested array", f, BAD, "test.nested|nested arrays");
    tb_free(f);

    static const uint8_t elem13[] = {13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    f = tb_model(4, 0, 0);
    tb_set_raw(f, "test.odd", 9, elem13, sizeof elem13);
    expect_file("unknown array element type", f, BAD, "unknown array element type 13");
    tb_free(f);

    uint8_t big_arr[12] = {6, 0, 0, 0};
    le64(big_arr + 4, UINT64_C(1) << 61);
    f = tb_model(4, 0, 0);
    tb_set_raw(f, "test.big", 9, big_arr, sizeof big_arr);
    expect_file("array count past the end", f, BAD, "test.big|cannot fit");
    big_arr[0] = 8;
    tb_set_raw(f, "test.big", 9, big_arr, sizeof big_arr);
    expect_file("string array count past the end", f, BAD, "test.big|cannot fit");
    tb_free(f);

    static const uint8_t bool_arr[] = {7, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 3};
    f = tb_model(4, 0, 0);
    tb_set_raw(f, "test.bools", 9, bool_arr, sizeof bool_arr);
    expect_file("bool array element 3", f, BAD, "test.bools|element 1 is 3");
    tb_set_raw(f, "gatedinpaint.attention.fuse", 7, "\2", 1);
    expect_file("bool 2", f, BAD, "gatedinpaint.attention.fuse|must be 0 or 1");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_add_raw(f, "", 4, "\0\0\0\0", 4);
    expect_file("empty key", f, BAD, "is empty");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_set_str(f, "general.name", "dup");
    tb_add_raw(f, "general.name", f->kv[2].type, f->kv[2].value, f->kv[2].value_len);
    expect_file("duplicate key", f, BAD, "duplicate key 'general.name'");
    tb_free(f);

    static const struct { const char *label; uint32_t type; uint32_t value; const char *msg; }
        align_cases[] = {
            {"alignment 48", 4, 48, "general.alignment is 48"},
            {"alignment 4", 4, 4, "general.alignment is 4"},
            {"alignment 0", 4, 0, "general.alignment is 0"},
            {"alignment as i32", 5, 64, "'general.alignment' has type i32, expected u32"},
        };
    for (size_t i = 0; i < sizeof align_cases / sizeof align_cases[0]; i++) {
        f = tb_model(4, 0, 0);
        uint8_t v[4] = {(uint8_t)align_cases[i].value, (uint8_t)(align_cases[i].value >> 8), 0, 0};
        tb_set_raw(f, "general.alignment", align_cases[i].type, v, 4);
        expect_file(align_cases[i].label, f, BAD, align_cases[i].msg);
        tb_free(f);
    }

    /* a non-default power-of-two alignment is fine */
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "general.alignment", 256);
    f->alignment = 256;
    expect_file("alignment 256", f, GI_OK, "");
    tb_free(f);

    /* tensor infos */
    uint64_t dims[5] = {3, 3, 4, 4, 1};
    static const struct { uint32_t n; const char *msg; } rank_cases[] = {
        {0, "conv3.weight' has 0 dimensions"}, {5, "conv3.weight' has 5 dimensions"}};
    for (size_t i = 0; i < 2; i++) {
        f = tb_model(4, 0, 0);
        tb_tensor *t = tb_find_tensor(f, "conv3.weight");
        t->n_dims = rank_cases[i].n;
        memcpy(t->dims, dims, sizeof dims);
        expect_file("n_dims 0/5", f, BAD, rank_cases[i].msg);
        tb_free(f);
    }
    for (int d = 0; d < 4; d++) { /* a zero in any place, the first one included */
        f = tb_model(4, 0, 0);
        tb_find_tensor(f, "conv3.weight")->dims[d] = 0;
        expect_file("dimension 0", f, BAD, "conv3.weight' has a dimension of size 0");
        tb_free(f);
    }

    f = tb_model(4, 0, 0);
    tb_tensor *t = tb_find_tensor(f, "conv3.weight");
    t->dims[0] = t->dims[1] = t->dims[2] = UINT64_C(1) << 32;
    expect_file("dims product overflow", f, BAD, "conv3.weight|overflows");
    t->dims[0] = t->dims[1] = UINT64_C(1) << 20;
    t->dims[2] = t->dims[3] = 1;
    expect_file("dims bigger than the file", f, BAD,
                "conv3.weight' data (1099511627776 F32 elements) runs past the end");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_find_tensor(f, "conv4_downsample.bias")->type = 2;
    expect_file("unknown tensor type", f, BAD,
                "conv4_downsample.bias' has unsupported tensor type 2");
    tb_free(f);

    char longname[300];
    memset(longname, 'x', 299);
    longname[299] = '\0';
    f = tb_model(4, 0, 0);
    uint64_t one = 1;
    tb_add_tensor(f, longname, 1, &one, 0);
    expect_file("tensor name too long", f, BAD, "tensor info #84|exceeds the limit");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_find_tensor(f, "conv2_downsample.weight")->offset = 64 * 1000 + 4;
    expect_file("unaligned offset", f, BAD,
                "conv2_downsample.weight' has offset 64004, not a multiple of the "
                "alignment 64");
    tb_find_tensor(f, "conv2_downsample.weight")->offset = 64 * 1000 + 1; /* off by one */
    expect_file("unaligned offset", f, BAD,
                "conv2_downsample.weight' has offset 64001, not a multiple of the "
                "alignment 64");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_find_tensor(f, "allconv17.weight")->offset = INT64_C(1) << 40;
    expect_file("offset past end", f, BAD, "allconv17.weight|past the end of the file");
    tb_find_tensor(f, "allconv17.weight")->offset = INT64_C(0x7fffffffffffffc0);
    expect_file("offset near 2^63", f, BAD, "allconv17.weight|past the end of the file");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_find_tensor(f, "conv5.bias")->offset = 0; /* conv1.weight's place */
    expect_file("overlapping tensors", f, BAD, "conv1.weight' and 'conv5.bias' overlap");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_tensor *dup = tb_add_tensor(f, "conv1.weight", 1, &one, 0);
    (void)dup;
    expect_file("duplicate tensor", f, BAD, "duplicate tensor 'conv1.weight'");
    tb_free(f);
}

/* Every cut of a valid file inside its header (and a sample beyond) fails
 * cleanly. */
static void test_truncation(void) {
    tb_file *f = tb_model(4, 0, 2);
    size_t size, start;
    uint8_t *data = tb_serialize(f, &size, &start);
    int bad = 0;
    for (size_t cut = 1; cut < size && bad < 5; cut += cut < start + 256 ? 1 : 997) {
        uint8_t *copy = malloc(cut); /* exact size, so ASan sees any over-read */
        memcpy(copy, data, cut);
        gi_model *m = NULL;
        gi_status st = gi_model_load_memory(copy, cut, &m);
        const char *msg = gi_last_error();
        int ok = st == GI_E_BAD_MODEL && m == NULL &&
                 (strstr(msg, "truncated") || strstr(msg, "past the end") ||
                  (cut < 4 && strstr(msg, "bad magic")));
        if (!ok) bad++;
        CHECK(ok, "cut at %zu of %zu: status %d, message %s", cut, size, (int)st, msg);
        gi_model_release(m);
        free(copy);
    }
    free(data);
    tb_free(f);
}

static void test_model_rules(void) {
    const gi_status BAD = GI_E_BAD_MODEL;
    static const char *const required[] = {
        "general.architecture", "general.name", "general.license",
        "gatedinpaint.family", "gatedinpaint.arch_version", "gatedinpaint.width",
        "gatedinpaint.guide_channels", "gatedinpaint.channel_order"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        tb_file *f = tb_model(4, 0, 0);
        char want[128];
        tb_remove_kv(f, required[i]);
        snprintf(want, sizeof want, "missing required key '%s'", required[i]);
        expect_file(required[i], f, BAD, want);
        tb_free(f);
    }

    static const struct { const char *key; uint32_t type; const char *msg; } types[] = {
        {"gatedinpaint.width", 8, "'gatedinpaint.width' has type string, expected u32"},
        {"gatedinpaint.arch_version", 10, "'gatedinpaint.arch_version' has type u64"},
        {"general.name", 4, "'general.name' has type u32, expected string"},
        {"general.source_url", 4, "'general.source_url' has type u32, expected string"},
        {"gatedinpaint.attention.fuse", 4, "'gatedinpaint.attention.fuse' has type u32, expected bool"},
        {"gatedinpaint.attention.softmax_scale", 4, "softmax_scale' has type u32, expected f32"},
        {"general.architecture", 4, "'general.architecture' has type u32"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        tb_file *f = tb_model(4, 0, 0);
        if (types[i].type == 8)
            tb_set_str(f, types[i].key, "8");
        else if (types[i].type == 10)
            tb_set_raw(f, types[i].key, 10, "\1\0\0\0\0\0\0\0", 8);
        else
            tb_set_u32(f, types[i].key, 1);
        expect_file(types[i].key, f, BAD, types[i].msg);
        tb_free(f);
    }

    static const struct { const char *key; const char *value; const char *msg; } strs[] = {
        {"gatedinpaint.family", "lama", "model family 'lama' is not supported by this library (it runs 'deepfill_v2', 'pconv_unet')"},
        {"general.architecture", "llama", "general.architecture is 'llama'"},
        {"gatedinpaint.channel_order", "rgba", "channel_order is 'rgba'"},
        {"gatedinpaint.channel_order", "RGB", "channel_order is 'RGB'"},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        tb_file *f = tb_model(4, 0, 0);
        tb_set_str(f, strs[i].key, strs[i].value);
        expect_file(strs[i].value, f, BAD, strs[i].msg);
        tb_free(f);
    }
    tb_file *f = tb_model(4, 0, 0);
    static const uint8_t nul_name[] = {3, 0, 0, 0, 0, 0, 0, 0, 'a', 0, 'b'};
    tb_set_raw(f, "general.name", 8, nul_name, sizeof nul_name);
    expect_file("NUL in name", f, BAD, "'general.name' contains a NUL byte");
    tb_free(f);

    static const struct { const char *key; uint32_t v; const char *msg; } nums[] = {
        {"gatedinpaint.arch_version", 3, "arch_version is 3, this library supports 1 to 2"},
        {"gatedinpaint.arch_version", 0, "arch_version is 0"},
        {"gatedinpaint.width", 6, "gatedinpaint.width is 6, must be a multiple of 4"},
        {"gatedinpaint.width", 0, "gatedinpaint.width is 0"},
        {"gatedinpaint.width", 1024, "gatedinpaint.width is 1024"},
        {"gatedinpaint.width", 0xfffffffc, "gatedinpaint.width is 4294967292"},
        {"gatedinpaint.guide_channels", 2, "guide_channels is 2, must be 0 or 1"},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        f = tb_model(4, 0, 0);
        tb_set_u32(f, nums[i].key, nums[i].v);
        expect_file(nums[i].msg, f, BAD, nums[i].msg);
        tb_free(f);
    }
    static const float scales[] = {0.0f, -1.0f, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        f = tb_model(4, 0, 0);
        tb_set_f32(f, "gatedinpaint.attention.softmax_scale", scales[i]);
        expect_file("softmax_scale", f, BAD, "softmax_scale is|finite and > 0");
        tb_free(f);
    }

    /* tensors against the architecture */
    f = tb_model(4, 0, 0);
    tb_remove_tensor(f, "pmconv6.bias");
    expect_file("missing tensor", f, BAD, "missing tensor 'pmconv6.bias'");
    tb_free(f);

    f = tb_model(4, 0, 0);
    uint64_t d1[1] = {3};
    tb_add_tensor(f, "conv18.weight", 1, d1, 0);
    expect_file("extra tensor", f, BAD, "unexpected tensor 'conv18.weight'");
    tb_free(f);
    f = tb_model(4, 0, 0);
    tb_add_tensor(f, "conv1.weight_ema", 1, d1, 0);
    expect_file("extra tensor with a known prefix", f, BAD,
                "unexpected tensor 'conv1.weight_ema'");
    tb_free(f);

    f = tb_model(4, 0, 0);
    tb_find_tensor(f, "conv3.weight")->dims[2] = 3; /* cin 4 -> 3 */
    expect_file("wrong weight shape", f, BAD,
                "tensor 'conv3.weight' has shape 8x3x3x3, expected 8x4x3x3");
    tb_free(f);
    f = tb_model(4, 0, 0);
    tb_tensor *t = tb_find_tensor(f, "allconv17.bias");
    t->n_dims = 2;
    t->dims[1] = 1;
    expect_file("bias with two dims", f, BAD,
                "tensor 'allconv17.bias' has shape 1x3, expected 3");
    tb_free(f);
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.guide_channels", 1); /* tensors built without */
    expect_file("guide declared, tensors without", f, BAD,
                "tensor 'conv1.weight' has shape 4x5x5x5, expected 4x6x5x5");
    tb_free(f);

    /* NaN / Inf in F32 and F16 */
    static const struct { const char *name; uint32_t type, bits; const char *msg; } poisons[] = {
        {"conv5.weight", 0, 0x7fc00000u, "tensor 'conv5.weight' contains NaN at element 2"},
        {"allconv17.bias", 0, 0xff800000u, "tensor 'allconv17.bias' contains Inf at element 2"},
        {"xconv3.weight", 1, 0x7e01u, "tensor 'xconv3.weight' contains NaN at element 2"},
        {"pmconv1.bias", 1, 0xfc00u, "tensor 'pmconv1.bias' contains Inf at element 2"},
    };
    for (size_t i = 0; i < sizeof poisons / sizeof poisons[0]; i++) {
        f = tb_model(8, 0, poisons[i].type);
        t = tb_find_tensor(f, poisons[i].name);
        t->poison_index = 2; /* allconv17.bias has only 3 elements */
        t->poison_bits = poisons[i].bits;
        expect_file(poisons[i].name, f, BAD, poisons[i].msg);
        tb_free(f);
    }
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bit flips: any outcome but a crash or another status is fine. Half
 * the flips land in the header, where they matter most. */
static void test_bit_flips(void) {
    tb_file *f = tb_model(4, 1, 2);
    size_t size, start;
    uint8_t *data = tb_serialize(f, &size, &start);
    uint8_t *copy = malloc(size);
    int ok_count = 0, bad = 0;
    for (int iter = 0; iter < 400 && bad < 5; iter++) {
        memcpy(copy, data, size);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rng() % 2 ? rng() % start : rng() % size;
            copy[at] ^= (uint8_t)(1u << (rng() % 8));
        }
        gi_model *m = NULL;
        gi_status st = gi_model_load_memory(copy, size, &m);
        int ok = (st == GI_OK && m) ||
                 (st == GI_E_BAD_MODEL && !m && strlen(gi_last_error()) > 22);
        if (!ok) bad++;
        CHECK(ok, "bit flip iteration %d: status %d, message %s", iter, (int)st,
              gi_last_error());
        ok_count += st == GI_OK;
        gi_model_release(m);
    }
    printf("bit flips: %d of 400 variants still loaded\n", ok_count);
    free(copy);
    free(data);
    tb_free(f);
}

static void test_api(void) {
    gi_model *m = (gi_model *)&m;
    uint8_t byte = 0;
    CHECK(gi_model_load_memory(NULL, 10, &m) == GI_E_INVALID_ARG && m == NULL &&
              strstr(gi_last_error(), "gi_model_load_memory: data is NULL"),
          "data NULL: %s", gi_last_error());
    CHECK(gi_model_load_memory(&byte, 0, &m) == GI_E_INVALID_ARG &&
              strstr(gi_last_error(), "gi_model_load_memory: size is 0"),
          "size 0: %s", gi_last_error());
    CHECK(gi_model_load_memory(&byte, 1, NULL) == GI_E_INVALID_ARG &&
              strstr(gi_last_error(), "gi_model_load_memory: out is NULL"),
          "out NULL: %s", gi_last_error());
    CHECK(gi_model_load_file(NULL, &m) == GI_E_INVALID_ARG &&
              strstr(gi_last_error(), "gi_model_load_file: path is NULL"),
          "path NULL: %s", gi_last_error());
    CHECK(gi_model_load_file("x.gguf", NULL) == GI_E_INVALID_ARG &&
              strstr(gi_last_error(), "gi_model_load_file: out is NULL"),
          "file out NULL: %s", gi_last_error());
    const char *missing = "/nonexistent-gi-dir/model.gguf";
    m = (gi_model *)&m;
    CHECK(gi_model_load_file(missing, &m) == GI_E_IO && m == NULL &&
              strstr(gi_last_error(), "gi_model_load_file") &&
              strstr(gi_last_error(), missing) &&
              strstr(gi_last_error(), strerror(ENOENT)),
          "missing file: %s", gi_last_error());
    CHECK(gi_model_load_file("/", &m) == GI_E_IO &&
              strstr(gi_last_error(), "not a regular file"),
          "directory: %s", gi_last_error());
    m = (gi_model *)&m;
    gi_status dst = gi_model_load_default(&m);
    if (dst == GI_OK) { /* models/default.gguf was embedded (lib/model/meson.build) */
        CHECK(m != NULL && m != (gi_model *)&m, "load_default: no model");
        gi_model_release(m);
    } else {
        CHECK(dst == GI_E_UNSUPPORTED && m == NULL &&
                  strstr(gi_last_error(), "gi_model_load_default: this build has no "
                                          "embedded default model"),
              "load_default: %s", gi_last_error());
    }
    CHECK(gi_model_load_default(NULL) == GI_E_INVALID_ARG, "load_default(NULL)");
    CHECK(gi_model_retain(NULL) == NULL, "retain(NULL)");
    gi_model_release(NULL);

    /* a file round trip, then a malformed file whose message names it */
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/gi_test_model_XXXXXX", tmpdir);
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
    if (fd < 0) return;
    tb_file *f = tb_model(4, 0, 1);
    size_t size;
    uint8_t *data = tb_serialize(f, &size, NULL);
    FILE *fp = fdopen(fd, "wb");
    CHECK(fp && fwrite(data, 1, size, fp) == size && fclose(fp) == 0, "write %s", path);
    m = NULL;
    CHECK(gi_model_load_file(path, &m) == GI_OK && m, "load_file: %s", gi_last_error());
    if (m) check_weights("from file", m, f);
    gi_model_release(m);
    fp = fopen(path, "wb");
    CHECK(fp && fwrite(data, 1, 100, fp) == 100 && fclose(fp) == 0, "rewrite %s", path);
    CHECK(gi_model_load_file(path, &m) == GI_E_BAD_MODEL && m == NULL &&
              strstr(gi_last_error(), path) && strstr(gi_last_error(), "truncated"),
          "truncated file: %s", gi_last_error());
    unlink(path);
    free(data);
    tb_free(f);
}

/* Seeds for the fuzzer: valid models (F32, F16, guide) and their header
 * alone, so that mutations also reach the header-only code paths cheaply. */
/* ---- the PConv U-Net family ------------------------------------------------ */

static int32_t count_maps(void *user, const gi_map_info *info, const float *data) {
    int *n = user;
    CHECK(strcmp(info->kind, "mask") == 0 && info->c == 1 && (data[0] == 0.0f || data[0] == 1.0f),
          "map %s: kind %s", info->layer, info->kind);
    (*n)++;
    return 0;
}

/* A forward pass of a builder-made PConv model (also under the sanitizers):
 * known pixels kept, the hole filled, both strategies, a guide refused, the
 * map observer sees every layer's mask. */
static void pconv_inpaint(gi_model *m, int depth) {
    const int32_t h = 37, w = 53;
    gi_tensor *img = NULL, *mask = NULL, *out = NULL, *guide = NULL;
    gi_session *s = NULL;
    if (gi_tensor_create(GI_DTYPE_U8, h, w, 3, &img) || gi_tensor_create(GI_DTYPE_U8, h, w, 1, &mask) ||
        gi_tensor_create(GI_DTYPE_U8, h, w, 3, &out) || gi_tensor_create(GI_DTYPE_U8, h, w, 1, &guide) ||
        gi_session_create(m, &s)) {
        CHECK(0, "set-up: %s", gi_last_error());
        goto done;
    }
    uint8_t *px = gi_tensor_data(img), *mk = gi_tensor_data(mask);
    size_t ps = gi_tensor_row_stride(img), ms = gi_tensor_row_stride(mask);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++)
                px[y * ps + x * 3 + c] = (uint8_t)(128 + 127 * tb_value(7, (uint64_t)(y * w + x) * 3 + c));
            mk[y * ms + x] = (y >= 9 && y < 21 && x >= 14 && x < 40) ? 255 : 0;
        }
    for (int strategy = 0; strategy <= 1; strategy++) {
        int maps = 0;
        gi_session_set_int(s, GI_OPT_STRATEGY, strategy);
        gi_session_set_map_observer(s, count_maps, &maps);
        CHECK(gi_inpaint(s, img, mask, NULL, out) == GI_OK, "pconv inpaint: %s", gi_last_error());
        CHECK(maps == 2 * depth, "strategy %d: %d maps, want %d", strategy, maps, 2 * depth);
        const uint8_t *o = gi_tensor_data(out);
        size_t os = gi_tensor_row_stride(out);
        int kept = 1, filled = 0;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) {
                    int same = o[y * os + x * 3 + c] == px[y * ps + x * 3 + c];
                    if (mk[y * ms + x]) filled |= !same;
                    else kept &= same;
                }
        CHECK(kept && filled, "strategy %d: known pixels kept %d, hole changed %d", strategy,
              kept, filled);
    }
    gi_session_set_map_observer(s, NULL, NULL);
    CHECK(gi_inpaint(s, img, mask, guide, out) == GI_E_INVALID_ARG &&
              strstr(gi_last_error(), "no guide channel"), "a guide: %s", gi_last_error());
done:
    gi_session_destroy(s);
    gi_tensor_destroy(img), gi_tensor_destroy(mask), gi_tensor_destroy(out), gi_tensor_destroy(guide);
}

/* A family without attention gets no residual aggregation, so a region's
 * working memory must not hold its full-resolution buffers (3 floats a
 * pixel each for the residual and its aggregate): a 320x320 hole shrunk to
 * a 64-pixel network needs far less than one such buffer of the hole. */
static void pconv_regions_memory(void) {
    tb_file *f = tb_pconv_model(4, 4, 0, 0);
    tb_set_u32(f, "gatedinpaint.working_size", 64);
    gi_model *m = load_ok(f);
    tb_free(f);
    const int32_t n = 480, h0 = 80, h1 = 400;
    gi_tensor *img = NULL, *mask = NULL;
    gi_session *s = NULL;
    if (!m || gi_tensor_create(GI_DTYPE_U8, n, n, 3, &img) ||
        gi_tensor_create(GI_DTYPE_U8, n, n, 1, &mask) || gi_session_create(m, &s)) {
        CHECK(0, "set-up: %s", gi_last_error());
        goto done;
    }
    uint8_t *mk = gi_tensor_data(mask);
    size_t ms = gi_tensor_row_stride(mask);
    for (int32_t y = 0; y < n; y++)
        for (int32_t x = 0; x < n; x++) mk[y * ms + x] = y >= h0 && y < h1 && x >= h0 && x < h1;
    int64_t k = 0;
    CHECK(gi_inpaint(s, img, mask, NULL, img) == GI_OK, "regions: %s", gi_last_error());
    CHECK(gi_session_get_int(s, GI_OPT_LAST_SCALE, &k) == GI_OK && k >= 5, "scale %lld",
          (long long)k);
    size_t hole_floats = (size_t)(h1 - h0) * (h1 - h0) * 3 * sizeof(float);
    CHECK(s->arena.size < hole_floats, "pconv regions arena %zu bytes, a residual plane %zu",
          s->arena.size, hole_floats);
done:
    gi_session_destroy(s);
    gi_tensor_destroy(img), gi_tensor_destroy(mask);
    gi_model_release(m);
}

static void test_pconv(void) {
    pconv_regions_memory();
    const gi_status BAD = GI_E_BAD_MODEL;
    for (int all = 0; all <= 1; all++) {
        tb_file *f = tb_pconv_model(4, 4, all ? 1 : 0, all);
        gi_model *m = load_ok(f);
        if (m) {
            const char *fam = NULL;
            int64_t v = -1;
            CHECK(gi_model_get_string(m, GI_MODEL_FAMILY, &fam) == GI_OK &&
                      strcmp(fam, "pconv_unet") == 0, "family %s", fam ? fam : "?");
            CHECK(gi_model_get_int(m, GI_MODEL_GUIDE_CHANNELS, &v) == GI_OK && v == 0,
                  "guide channels %lld", (long long)v);
            CHECK(m->info.pad_multiple == 16 && m->info.pad_is_hole == 1, "padding rule");
            CHECK(m->info.aggregates == 0, "pconv_unet has no attention to aggregate with");
            CHECK(gi_model_get_string(m, GI_MODEL_INPUT_FILL, &fam) == GI_E_UNSUPPORTED,
                  "pconv_unet has no input_fill");
            /* BatchNorm folded: enc_2 (layer 1), channel 0, first weight */
            const gi_pconv_unet *pc = m->state;
            const tb_tensor *w = tb_find_tensor(f, "enc_2.conv.weight");
            const tb_tensor *g = tb_find_tensor(f, "enc_2.bn.weight");
            const tb_tensor *var = tb_find_tensor(f, "enc_2.bn.running_var");
            double s = tb_value(g->seed, 0) / sqrt(fabs(tb_value(var->seed, 0)) + 1e-5);
            double want = s * tb_value(w->seed, 0);
            CHECK(fabs(pc->convs[1].weight[0] - want) <= 1e-6 * (1 + fabs(want)),
                  "folded weight %g, want %g", (double)pc->convs[1].weight[0], want);
            /* only dec_1 has a bias when all == 0; BN makes enc_2's bias nonzero */
            CHECK(pc->convs[1].bias[0] != 0.0f, "folded bias");
            pconv_inpaint(m, 4);
        }
        gi_model_release(m);
        tb_free(f);
    }
    static const struct { const char *what; const char *key; int set; uint32_t v;
                          const char *str; const char *msg; } keys[] = {
        {"no layer_size", "gatedinpaint.pconv.layer_size", 0, 0, NULL,
         "missing required key 'gatedinpaint.pconv.layer_size'"},
        {"layer_size 3", "gatedinpaint.pconv.layer_size", 1, 3, NULL, "layer_size is 3, must be 4 to 9"},
        {"layer_size 10", "gatedinpaint.pconv.layer_size", 1, 10, NULL, "layer_size is 10"},
        {"width 0", "gatedinpaint.width", 1, 0, NULL, "gatedinpaint.width is 0, must be 1 to 512"},
        {"a guide", "gatedinpaint.guide_channels", 1, 1, NULL, "pconv_unet takes no guide"},
        {"arch 2", "gatedinpaint.arch_version", 1, 2, NULL, "supports 1 for pconv_unet"},
        {"order", "gatedinpaint.channel_order", 2, 0, "grb", "channel_order is 'grb'"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tb_file *f = tb_pconv_model(4, 4, 0, 0);
        if (keys[i].set == 0) tb_remove_kv(f, keys[i].key);
        if (keys[i].set == 1) tb_set_u32(f, keys[i].key, keys[i].v);
        if (keys[i].set == 2) tb_set_str(f, keys[i].key, keys[i].str);
        expect_file(keys[i].what, f, BAD, keys[i].msg);
        tb_free(f);
    }
    tb_file *f = tb_pconv_model(4, 4, 0, 0);
    tb_set_f32(f, "gatedinpaint.pconv.bn_eps", 0.0f);
    expect_file("bn_eps 0", f, BAD, "bn_eps is 0");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    tb_remove_tensor(f, "dec_3.bn.running_mean");
    expect_file("missing bn", f, BAD, "missing tensor 'dec_3.bn.running_mean'");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    tb_find_tensor(f, "enc_3.conv.weight")->dims[0] = 3;
    expect_file("shape", f, BAD, "tensor 'enc_3.conv.weight' has shape 16x8x5x3, expected 16x8x5x5");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    uint64_t d1[1] = {4};
    tb_add_tensor(f, "enc_1.bn.weight", 1, d1, 0); /* enc_1 has no BatchNorm */
    expect_file("extra", f, BAD, "unexpected tensor 'enc_1.bn.weight'");
    tb_free(f);
    f = tb_pconv_model(4, 5, 0, 0);
    tb_set_u32(f, "gatedinpaint.pconv.layer_size", 4); /* enc_5 / dec_5 left over */
    expect_file("depth mismatch", f, BAD, "unexpected tensor 'enc_5.conv.weight'");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    tb_find_tensor(f, "dec_2.bn.running_var")->nonneg = 0;
    expect_file("negative var", f, BAD, "'dec_2.bn.running_var' is negative");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    tb_tensor *t = tb_find_tensor(f, "dec_4.conv.weight");
    t->poison_index = 7;
    t->poison_bits = 0x7fc00000u;
    expect_file("nan", f, BAD, "'dec_4.conv.weight' contains NaN at element 7");
    tb_free(f);
    f = tb_pconv_model(4, 4, 0, 0);
    tb_find_tensor(f, "enc_4.bn.weight")->poison_index = -1;
    tb_set_f32(f, "gatedinpaint.pconv.bn_eps", 1e-30f);
    t = tb_find_tensor(f, "enc_4.bn.running_var");
    t->poison_index = 0;
    t->poison_bits = 0; /* var 0 + eps 1e-30: the scale overflows float */
    tb_find_tensor(f, "enc_4.bn.weight")->poison_index = 0;
    tb_find_tensor(f, "enc_4.bn.weight")->poison_bits = 0x7f000000u; /* 1.7e38 */
    expect_file("overflow", f, BAD, "layer enc_4: BatchNorm channel 0 scales the weights");
    tb_free(f);
}

static int write_seeds(const char *dir) {
    static const struct { const char *name; int width, guide; uint32_t type; int header_only; }
        seeds[] = {
            {"valid_w4_f32.gguf", 4, 0, 0, 0},
            {"valid_w4_guide_mixed.gguf", 4, 1, 2, 0},
            {"valid_w4_f16.gguf", 4, 0, 1, 0},
            {"header_w4.gguf", 4, 0, 0, 1},
            {"header_w8_guide_f16.gguf", 8, 1, 1, 1},
            {"pconv_w2_f32.gguf", 2, 2, 0, 0},
            {"pconv_w2_f16.gguf", 2, 2, 1, 0},
        };
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        /* guide 2: a PConv U-Net (layer_size 4) instead */
        tb_file *f = seeds[i].guide == 2 ? tb_pconv_model(seeds[i].width, 4, seeds[i].type, 0)
                                         : tb_model(seeds[i].width, seeds[i].guide, seeds[i].type);
        size_t size, start;
        uint8_t *data = tb_serialize(f, &size, &start);
        if (seeds[i].header_only) size = start;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        FILE *fp = fopen(path, "wb");
        int ok = fp && fwrite(data, 1, size, fp) == size;
        if (fp && fclose(fp) != 0) ok = 0;
        free(data);
        tb_free(f);
        if (!ok) {
            fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write-seeds DIR]\n", argv[0]);
        return 2;
    }
    test_valid();
    test_f16();
    test_container();
    test_model_rules();
    test_truncation();
    test_bit_flips();
    test_api();
    test_pconv();
    return check_report();
}
