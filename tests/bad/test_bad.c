/* The bad-input corpus: every class of malformed input we can think of,
 * each with the exact status expected and a word the message must contain
 * (so it names the problem). Classes: NULL pointers, zero/negative sizes,
 * mismatched sizes, wrong channel counts and dtypes, bad strides and
 * alignment, address-space overflow, 1x1/1xN/tiny images, gigapixel
 * tensors and file headers, resource limits, bad options, NaN/Inf weights,
 * models of another family or architecture, truncated and bit-flipped
 * model files, broken image files, empty and all-hole masks.
 *
 *   test_bad                 run the corpus
 *   test_bad --write DIR     write the files the CLI corpus (test_cli_bad.py)
 *                            uses: a valid tiny model, bad models, images */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../model/gguf_builder.h"
#include "common/alloc.h"
#include "../common/check.h"
#include "gatedinpaint.h"
#include "io/image_io.h"


/* The call must return `want` with a message containing every '|'-separated
 * word of `needles`. */
static void expect(const char *what, gi_status st, gi_status want, const char *needles) {
    const char *msg = gi_last_error();
    CHECK(st == want, "%s: status %d (%s), expected %d (%s); message: %s", what, (int)st,
          gi_status_string(st), (int)want, gi_status_string(want), msg);
    if (want == GI_OK) return;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", needles);
    for (char *save = NULL, *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save))
        CHECK(strstr(msg, w) != NULL, "%s: message '%s' does not mention '%s'", what, msg, w);
}
#define EXPECT(call, want, needles) expect(#call, (call), (want), (needles))

static char tmpdir[] = "/tmp/gi-test-bad-XXXXXX";
static const char *tmp(const char *name) {
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static void write_all(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static uint8_t *model_bytes(tb_file *f, size_t *size) {
    uint8_t *d = tb_serialize(f, size, NULL);
    tb_free(f);
    return d;
}

static gi_model *tiny_model(int guide) {
    size_t n;
    uint8_t *d = model_bytes(tb_model(4, guide, 0), &n);
    gi_model *m = NULL;
    gi_status st = gi_model_load_memory(d, n, &m);
    CHECK(st == GI_OK, "tiny model: %s", gi_last_error());
    free(d);
    return m;
}

static gi_tensor *u8(int h, int w, int c, uint8_t fill) {
    gi_tensor *t = NULL;
    gi_status st = gi_tensor_create(GI_DTYPE_U8, h, w, c, &t);
    CHECK(st == GI_OK, "create %dx%dx%d: %s", h, w, c, gi_last_error());
    if (t) memset(gi_tensor_data(t), fill, gi_tensor_row_stride(t) * (size_t)h);
    return t;
}

/* ---- tensors ------------------------------------------------------------ */

static void bad_tensors(void) {
    gi_tensor *t = (gi_tensor *)&t;
    float f[64];
    EXPECT(gi_tensor_create(GI_DTYPE_U8, 0, 4, 3, &t), GI_E_INVALID_ARG, "0x4x3|side < 1");
    CHECK(t == NULL, "failed create sets *out to NULL");
    EXPECT(gi_tensor_create(GI_DTYPE_U8, 4, -1, 3, &t), GI_E_INVALID_ARG, "4x-1x3");
    EXPECT(gi_tensor_create(GI_DTYPE_U8, 4, 4, 0, &t), GI_E_INVALID_ARG, "4x4x0");
    EXPECT(gi_tensor_create(GI_DTYPE_U8, -5, -5, -5, &t), GI_E_INVALID_ARG, "side < 1");
    EXPECT(gi_tensor_create(GI_DTYPE_U8, 4, 4, 4097, &t), GI_E_INVALID_ARG, "4097");
    EXPECT(gi_tensor_create(0, 4, 4, 3, &t), GI_E_INVALID_ARG, "dtype 0");
    EXPECT(gi_tensor_create(9, 4, 4, 3, &t), GI_E_INVALID_ARG, "dtype 9");
    EXPECT(gi_tensor_create(GI_DTYPE_U8, 4, 4, 3, NULL), GI_E_INVALID_ARG, "out is NULL");
    /* 2^31-1 x 2^31-1 x 4096 floats: refused, not wrapped around. */
    EXPECT(gi_tensor_create(GI_DTYPE_F32, 2147483647, 2147483647, 4096, &t), GI_E_NOMEM,
           "too large");
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 2, 2, 3, NULL, 6, &t), GI_E_INVALID_ARG, "data is NULL");
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 2, 2, 3, f, 5, &t), GI_E_INVALID_ARG,
           "row_stride 5|less than");
    EXPECT(gi_tensor_wrap(GI_DTYPE_F32, 2, 2, 3, f, 26, &t), GI_E_INVALID_ARG,
           "row_stride 26|multiple");
    EXPECT(gi_tensor_wrap(GI_DTYPE_F32, 2, 2, 3, (char *)f + 2, 24, &t), GI_E_INVALID_ARG,
           "aligned");
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 0, 2, 3, f, 6, &t), GI_E_INVALID_ARG, "side < 1");
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 2, 2, 3, f, 6, NULL), GI_E_INVALID_ARG, "out is NULL");
    /* A stride that makes the last row lie beyond the address space. */
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 1 << 20, 2, 3, f, (size_t)1 << 50, &t),
           GI_E_INVALID_ARG, "address space");
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 3, 2, 3, f, SIZE_MAX - 3, &t), GI_E_INVALID_ARG,
           "address space");
    CHECK(t == NULL, "failed wrap sets *out to NULL");
    /* 1 row: any stride >= the row is fine (never used). */
    EXPECT(gi_tensor_wrap(GI_DTYPE_U8, 1, 2, 3, f, SIZE_MAX, &t), GI_OK, "");
    gi_tensor_destroy(t);
    EXPECT(gi_tensor_shape(NULL, NULL, NULL, NULL), GI_E_INVALID_ARG, "NULL");
    CHECK(gi_tensor_row_stride(NULL) == 0 && gi_tensor_data(NULL) == NULL &&
              gi_tensor_dtype(NULL) == 0,
          "getters on NULL");
}

/* ---- gi_inpaint arguments ----------------------------------------------- */

static void bad_inpaint(gi_model *m, gi_model *mg) {
    gi_session *s = NULL;
    CHECK(gi_session_create(m, &s) == GI_OK, "session");
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
    int64_t def_pixels = 0, def_mem = 0;
    gi_session_get_int(s, GI_OPT_MAX_PIXELS, &def_pixels);
    gi_session_get_int(s, GI_OPT_MEM_LIMIT, &def_mem);
    CHECK(def_pixels == 67108864, "default GI_OPT_MAX_PIXELS %lld", (long long)def_pixels);
    CHECK(def_mem >= ((int64_t)64 << 20), "default GI_OPT_MEM_LIMIT %lld (physical memory)",
          (long long)def_mem);
    gi_tensor *img = u8(24, 20, 3, 90), *mask = u8(24, 20, 1, 0), *out = u8(24, 20, 3, 0);
    memset((uint8_t *)gi_tensor_data(mask) + 8 * 20, 255, 5 * 20); /* rows 8..12 */

    /* NULLs */
    EXPECT(gi_inpaint(NULL, img, mask, NULL, out), GI_E_INVALID_ARG, "session is NULL");
    EXPECT(gi_inpaint(s, NULL, mask, NULL, out), GI_E_INVALID_ARG, "image is NULL");
    EXPECT(gi_inpaint(s, img, NULL, NULL, out), GI_E_INVALID_ARG, "mask is NULL");
    EXPECT(gi_inpaint(s, img, mask, NULL, NULL), GI_E_INVALID_ARG, "out is NULL");

    /* mismatched sizes: mask, out, guide; by one pixel either way */
    gi_tensor *m_h = u8(23, 20, 1, 0), *m_w = u8(24, 21, 1, 0), *o_w = u8(24, 19, 3, 0);
    EXPECT(gi_inpaint(s, img, m_h, NULL, out), GI_E_SHAPE, "mask is 20x23|image is 20x24");
    EXPECT(gi_inpaint(s, img, m_w, NULL, out), GI_E_SHAPE, "mask is 21x24");
    EXPECT(gi_inpaint(s, img, mask, NULL, o_w), GI_E_SHAPE, "out is 19x24");

    /* wrong channel counts and dtypes */
    gi_tensor *i1 = u8(24, 20, 1, 0), *i2 = u8(24, 20, 2, 0), *i5 = u8(24, 20, 5, 0);
    gi_tensor *m3 = u8(24, 20, 3, 0), *m4 = u8(24, 20, 4, 0), *o4 = u8(24, 20, 4, 0);
    gi_tensor *f32 = NULL, *mf = NULL;
    gi_tensor_create(GI_DTYPE_F32, 24, 20, 3, &f32);
    gi_tensor_create(GI_DTYPE_F32, 24, 20, 1, &mf);
    /* grey images are valid; their out must be grey too */
    EXPECT(gi_inpaint(s, i1, mask, NULL, out), GI_E_SHAPE, "out has 3 channels|expected 1");
    EXPECT(gi_inpaint(s, i2, mask, NULL, out), GI_E_SHAPE, "out has 3 channels|expected 2");
    EXPECT(gi_inpaint(s, i5, mask, NULL, out), GI_E_SHAPE, "5 channels");
    EXPECT(gi_inpaint(s, img, m3, NULL, out), GI_E_SHAPE, "mask has 3 channels");
    EXPECT(gi_inpaint(s, img, m4, NULL, out), GI_E_SHAPE, "mask has 4 channels");
    EXPECT(gi_inpaint(s, img, mask, NULL, o4), GI_E_SHAPE, "out has 4 channels, expected 3");
    EXPECT(gi_inpaint(s, f32, mask, NULL, out), GI_E_SHAPE, "image must be GI_DTYPE_U8");
    EXPECT(gi_inpaint(s, img, mf, NULL, out), GI_E_SHAPE, "mask must be GI_DTYPE_U8");
    EXPECT(gi_inpaint(s, img, mask, NULL, f32), GI_E_SHAPE, "out must be GI_DTYPE_U8");

    /* a guide for a model without one; a bad guide for a model with one */
    EXPECT(gi_inpaint(s, img, mask, mask, out), GI_E_INVALID_ARG, "no guide channel");
    gi_session *sg = NULL;
    gi_session_create(mg, &sg);
    gi_session_set_int(sg, GI_OPT_NUM_THREADS, 1);
    EXPECT(gi_inpaint(sg, img, mask, m3, out), GI_E_SHAPE, "guide has 3 channels");
    EXPECT(gi_inpaint(sg, img, mask, m_w, out), GI_E_SHAPE, "guide is 21x24");
    EXPECT(gi_inpaint(sg, img, mask, mask, out), GI_OK, "");

    /* 1x1, 1xN, Nx1, 15x16: too small for the network */
    int sizes[][2] = {{1, 1}, {1, 64}, {64, 1}, {15, 16}, {16, 15}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int h = sizes[i][0], w = sizes[i][1];
        gi_tensor *a = u8(h, w, 3, 1), *b = u8(h, w, 1, 255), *c = u8(h, w, 3, 0);
        EXPECT(gi_inpaint(s, a, b, NULL, c), GI_E_SHAPE, "minimum is 16x16");
        gi_tensor_destroy(a), gi_tensor_destroy(b), gi_tensor_destroy(c);
    }
    /* The smallest size works, in place, with a full hole. */
    gi_tensor *a = u8(16, 16, 4, 7), *b = u8(16, 16, 1, 255);
    EXPECT(gi_inpaint(s, a, b, NULL, a), GI_OK, "");
    gi_tensor_destroy(a), gi_tensor_destroy(b);

    /* empty mask: a copy; all-hole mask: every pixel filled, alpha kept */
    gi_tensor *empty = u8(24, 20, 1, 127), *full = u8(24, 20, 1, 128);
    EXPECT(gi_inpaint(s, img, empty, NULL, out), GI_OK, "");
    CHECK(memcmp(gi_tensor_data(out), gi_tensor_data(img), 24 * 20 * 3) == 0,
          "empty mask (all 127) copies the image");
    EXPECT(gi_inpaint(s, img, full, NULL, out), GI_OK, "");
    EXPECT(gi_inpaint(s, o4, full, NULL, o4), GI_OK, "");

    /* gigapixel images, wrapped over a small buffer: refused before any
     * pixel is read or anything allocated */
    static uint8_t small[64];
    gi_tensor *gi = NULL, *gm = NULL, *go = NULL;
    gi_tensor_wrap(GI_DTYPE_U8, 100000, 100000, 3, small, 0 + 300000, &gi);
    gi_tensor_wrap(GI_DTYPE_U8, 100000, 100000, 1, small, 100000, &gm);
    gi_tensor_wrap(GI_DTYPE_U8, 100000, 100000, 3, small, 300000, &go);
    CHECK(gi && gm && go, "wrapping a gigapixel tensor: %s", gi_last_error());
    EXPECT(gi_inpaint(s, gi, gm, NULL, go), GI_E_UNSUPPORTED,
           "100000x100000|GI_OPT_MAX_PIXELS = 67108864");
    gi_tensor_destroy(gi), gi_tensor_destroy(gm), gi_tensor_destroy(go);

    /* pixel limit just below / at the image */
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, 24 * 20 - 1), GI_OK, "");
    EXPECT(gi_inpaint(s, img, mask, NULL, out), GI_E_UNSUPPORTED, "20x24 = 480 pixels|479");
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, 24 * 20), GI_OK, "");
    EXPECT(gi_inpaint(s, img, mask, NULL, out), GI_OK, "");

    /* memory limit: refused with both figures, then fine again */
    EXPECT(gi_session_set_int(s, GI_OPT_MEM_LIMIT, 4096), GI_OK, "");
    EXPECT(gi_inpaint(s, img, mask, NULL, out), GI_E_NOMEM,
           "20x24 image|GI_OPT_MEM_LIMIT = 4096 bytes");
    EXPECT(gi_session_set_int(s, GI_OPT_MEM_LIMIT, 0), GI_OK, "");
    EXPECT(gi_inpaint(s, img, mask, NULL, out), GI_OK, "");

    /* options */
    int64_t v = 0;
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, -1), GI_E_INVALID_ARG, "GI_OPT_MAX_PIXELS = -1");
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, ((int64_t)1 << 32) + 1), GI_E_INVALID_ARG,
           "4294967297");
    EXPECT(gi_session_set_int(s, GI_OPT_MEM_LIMIT, -5), GI_E_INVALID_ARG, "GI_OPT_MEM_LIMIT = -5");
    EXPECT(gi_session_set_int(s, GI_OPT_NUM_THREADS, 5000), GI_E_INVALID_ARG, "5000");
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_ISA, -3), GI_E_INVALID_ARG, "negative");
    EXPECT(gi_session_set_int(s, 12345, 1), GI_E_INVALID_ARG, "unknown option 12345");
    EXPECT(gi_session_get_int(s, 12345, &v), GI_E_INVALID_ARG, "unknown option 12345");
    EXPECT(gi_session_get_int(NULL, GI_OPT_MAX_PIXELS, &v), GI_E_INVALID_ARG, "session is NULL");
    EXPECT(gi_session_get_int(s, GI_OPT_MAX_PIXELS, NULL), GI_E_INVALID_ARG, "value is NULL");
    EXPECT(gi_session_set_progress(NULL, NULL, NULL), GI_E_INVALID_ARG, "session is NULL");
    gi_session *none = (gi_session *)&v;
    EXPECT(gi_session_create(NULL, &none), GI_E_INVALID_ARG, "model is NULL");
    CHECK(none == NULL, "failed session create sets *out to NULL");

    gi_tensor_destroy(m_h), gi_tensor_destroy(m_w), gi_tensor_destroy(o_w);
    gi_tensor_destroy(i1), gi_tensor_destroy(i2), gi_tensor_destroy(i5);
    gi_tensor_destroy(m3), gi_tensor_destroy(m4), gi_tensor_destroy(o4);
    gi_tensor_destroy(f32), gi_tensor_destroy(mf), gi_tensor_destroy(empty);
    gi_tensor_destroy(full), gi_tensor_destroy(img), gi_tensor_destroy(mask);
    gi_tensor_destroy(out);
    gi_session_destroy(s);
    gi_session_destroy(NULL);
    gi_session_destroy(sg);
}

/* ---- kernel-level ops --------------------------------------------------- */

static void bad_ops(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    gi_tensor *in = NULL, *out = NULL, *u = NULL, *odd = NULL;
    gi_tensor_create(GI_DTYPE_F32, 8, 8, 2, &in);
    gi_tensor_create(GI_DTYPE_F32, 8, 8, 2, &out);
    gi_tensor_create(GI_DTYPE_F32, 7, 8, 2, &odd);
    u = u8(8, 8, 2, 0);
    float w[2 * 2 * 9] = {0}, b[2] = {0};
    EXPECT(gi_op_gated_conv2d(NULL, in, w, b, 2, 3, 1, 1, 0, 0, out), GI_E_INVALID_ARG, "session");
    EXPECT(gi_op_gated_conv2d(s, NULL, w, b, 2, 3, 1, 1, 0, 0, out), GI_E_INVALID_ARG, "input is NULL");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 0, 0, NULL), GI_E_INVALID_ARG, "output is NULL");
    EXPECT(gi_op_gated_conv2d(s, in, w, NULL, 2, 3, 1, 1, 0, 0, out), GI_E_INVALID_ARG, "bias");
    EXPECT(gi_op_gated_conv2d(s, u, w, b, 2, 3, 1, 1, 0, 0, out), GI_E_SHAPE, "GI_DTYPE_F32");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 0, 3, 1, 1, 0, 0, out), GI_E_INVALID_ARG, "cconv=0");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 0, 1, 1, 0, 0, out), GI_E_INVALID_ARG, "kernel=0");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 0, 1, 0, 0, out), GI_E_INVALID_ARG, "stride=0");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, -1, 0, 0, out), GI_E_INVALID_ARG, "dilation=-1");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 0, 7, out), GI_E_INVALID_ARG, "upsample2x=7");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 9, 0, out), GI_E_INVALID_ARG, "activation 9");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 2, 1, 0, 0, out), GI_E_SHAPE, "expected 4x4x2");
    EXPECT(gi_session_set_int(s, GI_OPT_MEM_LIMIT, 16), GI_OK, "");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 0, 0, out), GI_E_NOMEM, "GI_OPT_MEM_LIMIT");
    EXPECT(gi_op_contextual_attention(s, in, NULL, 1, 10.0f, out), GI_E_NOMEM, "GI_OPT_MEM_LIMIT");
    EXPECT(gi_session_set_int(s, GI_OPT_MEM_LIMIT, 0), GI_OK, "");
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, 63), GI_OK, "");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 0, 0, out), GI_E_UNSUPPORTED,
           "input is 8x8 = 64 pixels");
    EXPECT(gi_session_set_int(s, GI_OPT_MAX_PIXELS, 0), GI_OK, "");
    EXPECT(gi_op_gated_conv2d(s, in, w, b, 2, 3, 1, 1, 0, 0, out), GI_OK, "");
    /* 2^31-1 rows upsampled x2 would overflow the 32-bit sizes: refused
     * before any arithmetic (both tensors wrap 16 bytes, never read) */
    static float tiny[4];
    gi_tensor *tall = NULL, *tall_out = NULL;
    gi_tensor_wrap(GI_DTYPE_F32, 2147483647, 1, 1, tiny, 4, &tall);
    gi_tensor_wrap(GI_DTYPE_F32, 2147483647, 2, 1, tiny, 8, &tall_out);
    CHECK(tall && tall_out, "wrap tall: %s", gi_last_error());
    EXPECT(gi_op_gated_conv2d(s, tall, w, b, 1, 1, 1, 1, 0, 1, tall_out), GI_E_UNSUPPORTED,
           "too large");
    gi_tensor_destroy(tall), gi_tensor_destroy(tall_out);
    EXPECT(gi_op_contextual_attention(s, NULL, NULL, 1, 10.0f, out), GI_E_INVALID_ARG,
           "features is NULL");
    EXPECT(gi_op_contextual_attention(s, odd, NULL, 1, 10.0f, odd), GI_E_SHAPE, "even");
    EXPECT(gi_op_contextual_attention(s, in, NULL, 1, NAN, out), GI_E_INVALID_ARG, "softmax_scale");
    EXPECT(gi_op_contextual_attention(s, in, NULL, 1, INFINITY, out), GI_E_INVALID_ARG,
           "softmax_scale");
    EXPECT(gi_op_contextual_attention(s, in, NULL, 1, 10.0f, in), GI_E_INVALID_ARG,
           "must not be the features");
    EXPECT(gi_op_contextual_attention(s, in, in, 1, 10.0f, out), GI_E_SHAPE, "mask is 8x8x2");
    EXPECT(gi_op_contextual_attention(s, in, NULL, 1, 10.0f, out), GI_OK, "");
    gi_tensor_destroy(in), gi_tensor_destroy(out), gi_tensor_destroy(u), gi_tensor_destroy(odd);
    gi_session_destroy(s);
}

/* ---- models -------------------------------------------------------------- */

static gi_status load(tb_file *f) {
    size_t n;
    uint8_t *d = model_bytes(f, &n);
    gi_model *m = (gi_model *)&n;
    gi_status st = gi_model_load_memory(d, n, &m);
    if (st != GI_OK) CHECK(m == NULL, "failed load sets *out to NULL");
    gi_model_release(st == GI_OK ? m : NULL);
    free(d);
    return st;
}

static void poison(tb_file *f, const char *tensor, int64_t at, uint32_t bits) {
    tb_tensor *t = tb_find_tensor(f, tensor);
    CHECK(t != NULL, "tensor %s", tensor);
    if (!t) return;
    t->poison_index = at;
    t->poison_bits = bits;
}

static void bad_models(void) {
    gi_model *m = (gi_model *)&m;
    EXPECT(gi_model_load_memory(NULL, 10, &m), GI_E_INVALID_ARG, "data is NULL");
    EXPECT(gi_model_load_memory("GGUF", 0, &m), GI_E_INVALID_ARG, "size is 0");
    EXPECT(gi_model_load_memory("GGUF", 4, NULL), GI_E_INVALID_ARG, "out is NULL");
    EXPECT(gi_model_load_file(NULL, &m), GI_E_INVALID_ARG, "path is NULL");
    EXPECT(gi_model_load_file("/nonexistent/x.gguf", &m), GI_E_IO, "/nonexistent/x.gguf");
    EXPECT(gi_model_load_file("/tmp", &m), GI_E_IO, "not a regular file");
    EXPECT(gi_model_load_memory("\x89PNG\r\n\x1a\n", 8, &m), GI_E_BAD_MODEL, "not a GGUF file");

    /* NaN / Inf weights, F32 and F16 */
    tb_file *f = tb_model(4, 0, 0);
    poison(f, "conv1.weight", 5, 0x7fc00000u);
    EXPECT(load(f), GI_E_BAD_MODEL, "conv1.weight|NaN|element 5");
    f = tb_model(4, 0, 0);
    poison(f, "allconv17.bias", 0, 0xff800000u);
    EXPECT(load(f), GI_E_BAD_MODEL, "allconv17.bias|Inf");
    f = tb_model(4, 0, 1);
    poison(f, "pmconv6.weight", 11, 0x7c00u);
    EXPECT(load(f), GI_E_BAD_MODEL, "pmconv6.weight|Inf");

    /* another family, another architecture, another version */
    f = tb_model(4, 0, 0);
    tb_set_str(f, "gatedinpaint.family", "lama");
    EXPECT(load(f), GI_E_BAD_MODEL, "lama|not supported");
    f = tb_model(4, 0, 0);
    tb_set_str(f, "general.architecture", "llama");
    EXPECT(load(f), GI_E_BAD_MODEL, "llama|not a libgatedinpaint model");
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.arch_version", 99);
    EXPECT(load(f), GI_E_BAD_MODEL, "arch_version is 99");
    /* the hole pre-fill: known values only, and only from arch_version 2 on */
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.arch_version", 2);
    tb_set_str(f, "gatedinpaint.input_fill", "median");
    EXPECT(load(f), GI_E_BAD_MODEL, "input_fill is 'median'|'guided_pushpull' or 'ring_warp'");
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.arch_version", 2);
    tb_set_str(f, "gatedinpaint.input_fill", "guided_pushpull");
    EXPECT(load(f), GI_E_BAD_MODEL, "guided_pushpull' needs a guide channel");
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.arch_version", 2);
    tb_set_str(f, "gatedinpaint.input_fill", "ring_warp");
    EXPECT(load(f), GI_E_BAD_MODEL, "ring_warp' needs a guide channel");
    f = tb_model(4, 1, 0);
    tb_set_str(f, "gatedinpaint.input_fill", "guided_pushpull");
    EXPECT(load(f), GI_E_BAD_MODEL, "input_fill needs gatedinpaint.arch_version 2");
    f = tb_model(4, 0, 0);
    tb_set_str(f, "gatedinpaint.input_fill", "pushpull");
    EXPECT(load(f), GI_E_BAD_MODEL, "input_fill needs gatedinpaint.arch_version 2");
    f = tb_model(4, 0, 0);
    tb_set_bool(f, "gatedinpaint.residual", 1);
    EXPECT(load(f), GI_E_BAD_MODEL, "residual needs gatedinpaint.arch_version 2");
    /* absurd declared sizes */
    f = tb_model(4, 0, 0);
    tb_set_u32(f, "gatedinpaint.width", 1u << 30);
    EXPECT(load(f), GI_E_BAD_MODEL, "gatedinpaint.width is 1073741824");
    f = tb_model(4, 0, 0);
    f->tensor_count = (int64_t)1 << 40;
    EXPECT(load(f), GI_E_BAD_MODEL, "tensor_count");
    f = tb_model(4, 0, 0);
    tb_tensor *t = tb_find_tensor(f, "conv1.weight");
    t->dims[3] = (uint64_t)1 << 62;
    EXPECT(load(f), GI_E_BAD_MODEL, "conv1.weight");
    /* a valid model of another width with the tensors of width 8 */
    f = tb_model(8, 0, 0);
    tb_set_u32(f, "gatedinpaint.width", 4);
    EXPECT(load(f), GI_E_BAD_MODEL, "has shape|expected");

    /* truncated at every kind of place, and bit flips: never a crash */
    size_t n, start;
    tb_file *v = tb_model(4, 0, 0);
    uint8_t *d = tb_serialize(v, &n, &start);
    tb_free(v);
    /* (the header and tensor infos end before `start`; the data after) */
    size_t cuts[] = {0, 3, 4, 7, 23, 24, 100, start / 2, start - 1, start + 1,
                     start + (n - start) / 2, n - 4096};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        gi_status st = gi_model_load_memory(d, cuts[i], &m);
        gi_status want = cuts[i] == 0 ? GI_E_INVALID_ARG : GI_E_BAD_MODEL;
        char what[64];
        snprintf(what, sizeof what, "model cut to %zu of %zu bytes", cuts[i], n);
        expect(what, st, want, cuts[i] == 0 ? "size is 0" : cuts[i] < 4 ? "magic"
                               : cuts[i] < start - 64 ? "truncated" : "past the end of the file");
    }
    uint32_t r = 99;
    int loaded = 0;
    for (int i = 0; i < 200; i++) {
        size_t at = (r = r * 1103515245u + 12345u) % start;
        d[at] ^= (uint8_t)(1u << (r >> 28 & 7));
        gi_status st = gi_model_load_memory(d, n, &m);
        CHECK(st == GI_OK || (st == GI_E_BAD_MODEL && gi_last_error()[0]),
              "bit flip %d at %zu: %d %s", i, at, (int)st, gi_last_error());
        if (st == GI_OK) loaded++, gi_model_release(m);
        d[at] ^= (uint8_t)(1u << (r >> 28 & 7));
    }
    free(d);
    (void)loaded;
}

/* ---- image files --------------------------------------------------------- */

static void bad_images(void) {
    gi_tensor *t = (gi_tensor *)&t;
    EXPECT(gi_image_load(NULL, 0, &t), GI_E_INVALID_ARG, "path is NULL");
    EXPECT(gi_image_load(tmp("x.png"), 2, &t), GI_E_INVALID_ARG, "channels is 2");
    EXPECT(gi_image_load(tmp("x.png"), 0, NULL), GI_E_INVALID_ARG, "out is NULL");
    EXPECT(gi_image_load(tmp("missing.png"), 0, &t), GI_E_IO, "missing.png");
    write_all(tmp("empty.png"), "", 0);
    EXPECT(gi_image_load(tmp("empty.png"), 0, &t), GI_E_IO, "empty");
    write_all(tmp("text.png"), "hello, world\n", 13);
    EXPECT(gi_image_load(tmp("text.png"), 0, &t), GI_E_IO, "is not a PNG, JPEG, WebP or TIFF file");
    write_all(tmp("sig.png"), "\x89PNG\r\n\x1a\n", 8);
    EXPECT(gi_image_load(tmp("sig.png"), 0, &t), GI_E_IO, "cannot decode PNG");
    write_all(tmp("soi.jpg"), "\xff\xd8\xff", 3);
    EXPECT(gi_image_load(tmp("soi.jpg"), 0, &t), GI_E_IO, "cannot decode JPEG");
    /* WebP and TIFF signatures and nothing else: GI_E_IO when the format is
     * built, GI_E_UNSUPPORTED naming it when not */
    write_all(tmp("sig.webp"), "RIFF\4\0\0\0WEBP", 12);
    gi_status st = gi_image_load(tmp("sig.webp"), 0, &t);
    expect("gi_image_load(sig.webp)", st, st == GI_E_UNSUPPORTED ? GI_E_UNSUPPORTED : GI_E_IO,
           "WebP|sig.webp");
    write_all(tmp("sig.tif"), "II*\0", 4);
    st = gi_image_load(tmp("sig.tif"), 0, &t);
    expect("gi_image_load(sig.tif)", st, st == GI_E_UNSUPPORTED ? GI_E_UNSUPPORTED : GI_E_IO,
           "TIFF|sig.tif");
    gi_metadata *meta = (gi_metadata *)&meta;
    EXPECT(gi_image_load_ex(tmp("x.png"), 0, 2, &t, &meta), GI_E_INVALID_ARG, "unknown flags 0x2");
    CHECK(meta == NULL, "failed load_ex sets *meta to NULL");
    EXPECT(gi_image_load_ex(NULL, 0, GI_LOAD_16BIT, &t, NULL), GI_E_INVALID_ARG, "path is NULL");
    EXPECT(gi_image_load(tmpdir, 0, &t), GI_E_IO, tmpdir);
    CHECK(t == NULL, "failed load sets *out to NULL");

    /* a path longer than PATH_MAX and than the message buffer: a clean
     * error, the message cut, nothing overrun */
    char *longpath = malloc(6001);
    memset(longpath, 'a', 6000);
    longpath[6000] = '\0';
    EXPECT(gi_image_load(longpath, 0, &t), GI_E_IO, "gi_image_load: cannot open 'aaaa");
    CHECK(strlen(gi_last_error()) < 1024, "message length %zu", strlen(gi_last_error()));
    gi_model *lm = NULL;
    EXPECT(gi_model_load_file(longpath, &lm), GI_E_IO, "gi_model_load_file: cannot open 'aaaa");
    CHECK(strlen(gi_last_error()) < 1024, "message length %zu", strlen(gi_last_error()));
    free(longpath);

    /* 1x1 and 1xN images load (and round-trip) fine */
    gi_tensor *one = u8(1, 1, 3, 200), *row = u8(1, 300, 4, 9), *back = NULL;
    EXPECT(gi_image_save(tmp("one.png"), one, 0), GI_OK, "");
    EXPECT(gi_image_load(tmp("one.png"), 0, &back), GI_OK, "");
    gi_tensor_destroy(back);
    EXPECT(gi_image_save(tmp("row.jpg"), row, 0), GI_OK, "");
    EXPECT(gi_image_load(tmp("row.jpg"), 4, &back), GI_OK, "");
    gi_tensor_destroy(back);
    EXPECT(gi_image_save(tmp("x.bmp"), one, 0), GI_E_INVALID_ARG, "extension");
    EXPECT(gi_image_save(tmp("x.png"), one, 101), GI_E_INVALID_ARG, "quality is 101");
    gi_tensor *deep = NULL;
    gi_tensor_create(GI_DTYPE_U16, 2, 2, 3, &deep);
    EXPECT(gi_image_save_ex(tmp("deep.jpg"), deep, 0, NULL), GI_E_UNSUPPORTED,
           "JPEG holds 8 bits|save it as .png or .tif");
    gi_tensor_destroy(deep);
    EXPECT(gi_image_save(NULL, one, 0), GI_E_INVALID_ARG, "path is NULL");
    EXPECT(gi_image_save(tmp("x.png"), NULL, 0), GI_E_INVALID_ARG, "image is NULL");
    EXPECT(gi_image_save("/nonexistent/dir/x.png", one, 0), GI_E_IO, "/nonexistent/dir/x.png");
    EXPECT(gi_image_to_mask(NULL, &back), GI_E_INVALID_ARG, "image is NULL");
    EXPECT(gi_image_to_mask(one, NULL), GI_E_INVALID_ARG, "out is NULL");
    gi_tensor_destroy(one), gi_tensor_destroy(row);
}

/* ---- hostile headers that ask for memory --------------------------------- */

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static uint8_t buf[4096];
    *size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

/* Regression (fuzz finding): a ~100-byte PNG whose eXIf chunk declares
 * 64 MiB (or 2 GiB) made libpng allocate that much before reading it. The
 * decoder must fail cleanly without any large request. */
static void hostile_sizes(const char *srcdir) {
    static const char *files[] = {"png_exif_declares_64mib", "png_exif_declares_2gib"};
    for (int i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/fuzz/regressions/image/%s", srcdir, files[i]);
        size_t n = 0;
        const uint8_t *d = read_file(path, &n);
        if (n == 4096) d = NULL; /* larger than the buffer: not the file we want */
        CHECK(d && n > 50, "cannot read %s", path);
        if (!d) continue;
        gi_tensor *t = NULL;
        gi_alloc_fail_after(INT64_MAX, 0); /* count only */
        gi_status st = gi_image_load_memory(d, n, 0, 0, &t, NULL);
        size_t largest = gi_alloc_largest();
        gi_alloc_fail_after(-1, 0);
        expect(files[i], st, GI_E_IO, "cannot decode PNG|<memory>");
        CHECK(largest < ((size_t)1 << 20), "%s: an allocation of %zu bytes", files[i], largest);
        gi_tensor_destroy(t);
    }
    /* A valid progressive JPEG of 576 scans: each scan makes libjpeg pass
     * over the whole image again, so floods of tiny scans are refused. */
    char path[600];
    snprintf(path, sizeof path, "%s/fuzz/regressions/image/jpeg_576_scans", srcdir);
    gi_tensor *t = NULL;
    EXPECT(gi_image_load(path, 0, &t), GI_E_UNSUPPORTED, "more than 256 progressive scans");
    gi_tensor_destroy(t);
}

/* ---- files for the CLI corpus ------------------------------------------- */

static void write_model(const char *dir, const char *name, tb_file *f, size_t cut) {
    size_t n;
    uint8_t *d = model_bytes(f, &n);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_all(path, d, cut && cut < n ? cut : n);
    free(d);
}

static int write_files(const char *dir) {
    write_model(dir, "tiny.gguf", tb_model(4, 0, 0), 0);
    write_model(dir, "truncated.gguf", tb_model(4, 0, 0), 5000);
    tb_file *f = tb_model(4, 0, 0);
    poison(f, "conv1.weight", 0, 0x7fc00000u);
    write_model(dir, "nan.gguf", f, 0);
    f = tb_model(4, 0, 0);
    tb_set_str(f, "gatedinpaint.family", "lama");
    write_model(dir, "family.gguf", f, 0);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write") == 0) return write_files(argv[2]);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    gi_model *m = tiny_model(0), *mg = tiny_model(1);
    bad_tensors();
    bad_inpaint(m, mg);
    bad_ops(m);
    bad_models();
    bad_images();
    hostile_sizes(SOURCE_TESTS_DIR);
    gi_model_release(m);
    gi_model_release(mg);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_report();
}
