/* Public API behaviour: argument checks and messages, gi_inpaint's
 * guarantees (sizes, bit-identical pixels outside the hole, alpha, strides,
 * in-place, determinism across thread counts, cancellation), and the
 * kernel-level ops. Models come from the test GGUF builder (tests/model). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/gguf_builder.h"
#include "api/session.h"
#include "../common/check.h"
#include "gatedinpaint.h"

/* fill: NULL, or the gatedinpaint.input_fill value (arch_version 2). */
static gi_model *load_fill_model(int width, int guide, const char *fill) {
    tb_file *f = tb_model(width, guide, 0);
    if (fill) {
        tb_set_u32(f, "gatedinpaint.arch_version", 2);
        tb_set_str(f, "gatedinpaint.input_fill", fill);
    }
    size_t size;
    uint8_t *data = tb_serialize(f, &size, NULL);
    gi_model *m = NULL;
    gi_status st = gi_model_load_memory(data, size, &m);
    CHECK(st == GI_OK, "test model did not load: %s", gi_last_error());
    free(data);
    tb_free(f);
    return m;
}

static gi_model *load_test_model(int width, int guide) {
    return load_fill_model(width, guide, NULL);
}

static uint32_t seed = 12345;
static uint8_t rnd8(void) {
    seed = seed * 1664525u + 1013904223u;
    return (uint8_t)(seed >> 24);
}

/* A U8 image in caller memory with `pad` spare bytes per row, which are
 * filled with 0xA5 so we can check that nothing writes them. */
typedef struct img {
    gi_tensor *t;
    uint8_t *mem;
    int h, w, c, pad;
} img;

static img make_img(int h, int w, int c, int pad) {
    img im = {NULL, NULL, h, w, c, pad};
    size_t stride = (size_t)w * c + pad;
    im.mem = malloc(stride * h);
    for (int y = 0; y < h; y++)
        for (size_t x = 0; x < stride; x++)
            im.mem[y * stride + x] = x < (size_t)w * c ? rnd8() : 0xA5;
    gi_status st = gi_tensor_wrap(GI_DTYPE_U8, h, w, c, im.mem, stride, &im.t);
    CHECK(st == GI_OK, "wrap: %s", gi_last_error());
    return im;
}

static void free_img(img *im) {
    gi_tensor_destroy(im->t);
    free(im->mem);
}

/* A mask with a rectangle hole (value 255), or none when hh == 0. */
static img make_mask(int h, int w, int y0, int x0, int hh, int ww) {
    img m = make_img(h, w, 1, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            m.mem[y * w + x] = (y >= y0 && y < y0 + hh && x >= x0 && x < x0 + ww) ? 255 : 100;
    return m;
}

static int pad_intact(const img *im) {
    size_t stride = (size_t)im->w * im->c + im->pad;
    for (int y = 0; y < im->h; y++)
        for (size_t x = (size_t)im->w * im->c; x < stride; x++)
            if (im->mem[y * stride + x] != 0xA5) return 0;
    return 1;
}

static int same_pixels(const img *a, const img *b) {
    for (int y = 0; y < a->h; y++)
        if (memcmp(a->mem + y * ((size_t)a->w * a->c + a->pad),
                   b->mem + y * ((size_t)b->w * b->c + b->pad), (size_t)a->w * a->c))
            return 0;
    return 1;
}

static void test_basics(void) {
    CHECK(gi_version() == GI_VERSION_NUMBER, "gi_version %u", gi_version());
    CHECK(strcmp(gi_version_string(), "0.1.0") == 0, "version string %s", gi_version_string());
    CHECK(strcmp(gi_status_string(GI_E_SHAPE), "shape mismatch") == 0, "status string");
    CHECK(strcmp(gi_status_string(-999), "unknown status") == 0, "unknown status string");
    gi_tensor *t = NULL;
    CHECK_ERR(gi_tensor_create(7, 2, 2, 1, &t), GI_E_INVALID_ARG, "dtype");
    CHECK_ERR(gi_tensor_create(GI_DTYPE_U8, 0, 2, 1, &t), GI_E_INVALID_ARG, "0x2x1");
    CHECK_ERR(gi_tensor_create(GI_DTYPE_U8, 2, 2, 5000, &t), GI_E_INVALID_ARG, "5000");
    CHECK_ERR(gi_tensor_create(GI_DTYPE_U8, 2, 2, 1, NULL), GI_E_INVALID_ARG, "out");
    float buf[64];
    CHECK_ERR(gi_tensor_wrap(GI_DTYPE_F32, 2, 4, 2, buf, 31, &t), GI_E_INVALID_ARG, "row_stride");
    CHECK_ERR(gi_tensor_wrap(GI_DTYPE_F32, 2, 2, 2, buf, 18, &t), GI_E_INVALID_ARG, "multiple");
    CHECK_ERR(gi_tensor_wrap(GI_DTYPE_F32, 2, 2, 2, (char *)buf + 1, 16, &t), GI_E_INVALID_ARG,
              "aligned");
    CHECK_ERR(gi_tensor_wrap(GI_DTYPE_U8, 2, 2, 2, NULL, 4, &t), GI_E_INVALID_ARG, "data");
    CHECK(t == NULL, "failed calls leave *out NULL");
    CHECK(gi_tensor_create(GI_DTYPE_F32, 3, 4, 5, &t) == GI_OK, "create");
    int32_t h, w, c;
    gi_tensor_shape(t, &h, &w, &c);
    CHECK(h == 3 && w == 4 && c == 5 && gi_tensor_row_stride(t) == 80 &&
              gi_tensor_dtype(t) == GI_DTYPE_F32 && gi_tensor_data(t) != NULL,
          "tensor getters");
    gi_tensor_destroy(t);
    gi_tensor_destroy(NULL);
    CHECK(gi_tensor_dtype(NULL) == 0 && gi_tensor_data(NULL) == NULL, "NULL getters");
    CHECK_ERR(gi_tensor_shape(NULL, &h, &w, &c), GI_E_INVALID_ARG, "NULL");
}

static void test_session_options(gi_model *m) {
    gi_session *s = NULL;
    CHECK_ERR(gi_session_create(NULL, &s), GI_E_INVALID_ARG, "model");
    CHECK_ERR(gi_session_create(m, NULL), GI_E_INVALID_ARG, "out");
    CHECK(gi_session_create(m, &s) == GI_OK, "session: %s", gi_last_error());
    CHECK_ERR(gi_session_set_int(s, GI_OPT_NUM_THREADS, -1), GI_E_INVALID_ARG, "-1");
    /* the range ends exactly at 4096 */
    CHECK_ERR(gi_session_set_int(s, GI_OPT_NUM_THREADS, 4097), GI_E_INVALID_ARG, "0..4096");
    CHECK(gi_session_set_int(s, GI_OPT_NUM_THREADS, 4096) == GI_OK, "4096 threads: %s",
          gi_last_error());
    CHECK_ERR(gi_session_set_int(s, 999, 1), GI_E_INVALID_ARG, "999");
    CHECK_ERR(gi_session_set_int(s, GI_OPT_ISA, 0), GI_E_INVALID_ARG, "read-only");
    CHECK_ERR(gi_session_set_int(NULL, GI_OPT_NUM_THREADS, 1), GI_E_INVALID_ARG, "NULL");
    int64_t v = -1;
    CHECK(gi_session_set_int(s, GI_OPT_NUM_THREADS, 3) == GI_OK, "threads 3");
    CHECK(gi_session_get_int(s, GI_OPT_NUM_THREADS, &v) == GI_OK && v == 3, "threads read back");
    CHECK(gi_session_set_int(s, GI_OPT_MAX_ISA, GI_ISA_SCALAR) == GI_OK, "cap isa");
    CHECK(gi_session_get_int(s, GI_OPT_ISA, &v) == GI_OK && v == GI_ISA_SCALAR, "isa capped");
    CHECK_ERR(gi_session_get_int(s, GI_OPT_ISA, NULL), GI_E_INVALID_ARG, "value");
    CHECK(gi_session_get_int(s, GI_OPT_STRATEGY, &v) == GI_OK && v == GI_STRATEGY_REGIONS,
          "default strategy %lld", (long long)v);
    CHECK(gi_session_set_int(s, GI_OPT_STRATEGY, GI_STRATEGY_EXACT) == GI_OK, "exact");
    CHECK(gi_session_get_int(s, GI_OPT_STRATEGY, &v) == GI_OK && v == GI_STRATEGY_EXACT,
          "strategy read back");
    CHECK_ERR(gi_session_set_int(s, GI_OPT_STRATEGY, 2), GI_E_INVALID_ARG, "GI_STRATEGY_EXACT");
    CHECK_ERR(gi_session_set_int(s, GI_OPT_LAST_REGIONS, 1), GI_E_INVALID_ARG, "read-only");
    CHECK_ERR(gi_session_set_int(s, GI_OPT_LAST_SCALE, 1), GI_E_INVALID_ARG, "read-only");
    CHECK(gi_session_get_int(s, GI_OPT_LAST_SCALE, &v) == GI_OK && v == 1, "no call yet: scale 1");
    gi_session_destroy(s);
    gi_session_destroy(NULL);
}

static void test_inpaint_errors(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    img im = make_img(32, 40, 3, 0), out = make_img(32, 40, 3, 0);
    img mask = make_mask(32, 40, 8, 8, 8, 8), small = make_mask(31, 40, 0, 0, 4, 4);
    img im2 = make_img(32, 40, 2, 0), tiny = make_img(15, 40, 3, 0), tinym = make_mask(15, 40, 0, 0, 4, 4);
    img mask3 = make_img(32, 40, 3, 0), out4 = make_img(32, 40, 4, 0);
    CHECK_ERR(gi_inpaint(NULL, im.t, mask.t, NULL, out.t), GI_E_INVALID_ARG, "session");
    CHECK_ERR(gi_inpaint(s, NULL, mask.t, NULL, out.t), GI_E_INVALID_ARG, "image");
    CHECK_ERR(gi_inpaint(s, im.t, NULL, NULL, out.t), GI_E_INVALID_ARG, "mask");
    CHECK_ERR(gi_inpaint(s, im.t, mask.t, NULL, NULL), GI_E_INVALID_ARG, "out");
    CHECK_ERR(gi_inpaint(s, im.t, small.t, NULL, out.t), GI_E_SHAPE, "mask is 40x31, image is 40x32");
    CHECK_ERR(gi_inpaint(s, im2.t, mask.t, NULL, out.t), GI_E_SHAPE, "out has 3 channels, expected 2");
    CHECK_ERR(gi_inpaint(s, tiny.t, tinym.t, NULL, out.t), GI_E_SHAPE, "minimum is 16x16");
    CHECK_ERR(gi_inpaint(s, im.t, mask3.t, NULL, out.t), GI_E_SHAPE, "mask has 3 channels");
    CHECK_ERR(gi_inpaint(s, im.t, mask.t, NULL, out4.t), GI_E_SHAPE, "out has 4 channels");
    CHECK_ERR(gi_inpaint(s, im.t, mask.t, mask.t, out.t), GI_E_INVALID_ARG, "no guide channel");
    gi_tensor *f32 = NULL;
    gi_tensor_create(GI_DTYPE_F32, 32, 40, 1, &f32);
    CHECK_ERR(gi_inpaint(s, im.t, f32, NULL, out.t), GI_E_SHAPE, "mask must be GI_DTYPE_U8");
    gi_tensor_destroy(f32);
    free_img(&im), free_img(&out), free_img(&mask), free_img(&small), free_img(&im2);
    free_img(&tiny), free_img(&tinym), free_img(&mask3), free_img(&out4);
    gi_session_destroy(s);
}

typedef struct progress_log {
    int calls, cancel_at;
    float last;
    int monotonic;
} progress_log;

static int32_t on_progress(void *user, float done, const char *stage) {
    progress_log *p = user;
    if (done < p->last || done > 1.0f || !stage || !*stage) p->monotonic = 0;
    p->last = done;
    return ++p->calls == p->cancel_at;
}

static void test_inpaint_behaviour(gi_model *m, int32_t strategy) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
    gi_session_set_int(s, GI_OPT_STRATEGY, strategy);
    /* Odd size, RGBA, strided rows with guard bytes. */
    const int H = 37, W = 29;
    img im = make_img(H, W, 4, 7), out = make_img(H, W, 4, 5), out2 = make_img(H, W, 4, 0);
    img mask = make_mask(H, W, 10, 5, 12, 30); /* touches the right edge */
    progress_log log = {0, 0, 0.0f, 1};
    gi_session_set_progress(s, on_progress, &log);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, out.t) == GI_OK, "inpaint: %s", gi_last_error());
    CHECK(log.calls > 40 && log.monotonic && log.last == 1.0f,
          "progress: %d calls, monotonic %d, last %g", log.calls, log.monotonic, log.last);
    CHECK(pad_intact(&out) && pad_intact(&im), "bytes past the row were written");
    int outside_same = 1, alpha_same = 1, inside_changed = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *a = im.mem + y * (W * 4 + 7) + x * 4, *b = out.mem + y * (W * 4 + 5) + x * 4;
            int hole = mask.mem[y * W + x] > 127;
            if (!hole && memcmp(a, b, 4)) outside_same = 0;
            if (a[3] != b[3]) alpha_same = 0;
            if (hole && memcmp(a, b, 3)) inside_changed = 1;
        }
    CHECK(outside_same, "pixels outside the hole changed");
    CHECK(alpha_same, "alpha changed");
    CHECK(inside_changed, "nothing changed inside the hole");

    /* 2 threads: bitwise the same. */
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 2);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, out2.t) == GI_OK, "inpaint 2 threads");
    CHECK(same_pixels(&out, &out2), "1 and 2 threads differ");

    /* Cancellation leaves out untouched and the session usable. */
    img out3 = make_img(H, W, 4, 0), before = make_img(H, W, 4, 0);
    memcpy(before.mem, out3.mem, (size_t)H * W * 4);
    progress_log cancel = {0, 7, 0.0f, 1};
    gi_session_set_progress(s, on_progress, &cancel);
    CHECK_ERR(gi_inpaint(s, im.t, mask.t, NULL, out3.t), GI_E_CANCELLED, "cancelled");
    CHECK(same_pixels(&out3, &before), "cancelled call wrote the output");
    gi_session_set_progress(s, NULL, NULL);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, out3.t) == GI_OK, "after cancel: %s", gi_last_error());
    CHECK(same_pixels(&out, &out3), "result after a cancelled call differs");

    /* In place: out is the image. */
    img inplace = make_img(H, W, 4, 7);
    memcpy(inplace.mem, im.mem, (size_t)H * (W * 4 + 7));
    CHECK(gi_inpaint(s, inplace.t, mask.t, NULL, inplace.t) == GI_OK, "in place");
    CHECK(same_pixels(&inplace, &out), "in-place result differs");

    /* Empty mask: a copy. */
    img empty = make_mask(H, W, 0, 0, 0, 0);
    CHECK(gi_inpaint(s, im.t, empty.t, NULL, out3.t) == GI_OK, "empty mask");
    CHECK(same_pixels(&out3, &im), "empty mask did not copy the image");

    free_img(&im), free_img(&out), free_img(&out2), free_img(&out3), free_img(&before);
    free_img(&mask), free_img(&inplace), free_img(&empty);
    gi_session_destroy(s);
}

/* The hole rule (mask > 127) through gi_inpaint, with a hole that reaches no
 * image edge: every mask value 0..127 is a known pixel and stays bit-identical
 * (also those right of and below the hole), every value 128..255 is a hole,
 * and the result equals that of the binarised mask (0 / 255) bit for bit. */
static void test_threshold_and_known_pixels(gi_model *m, int32_t strategy) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
    gi_session_set_int(s, GI_OPT_STRATEGY, strategy);
    const int H = 40, W = 44, Y0 = 12, X0 = 10, HH = 14, WW = 18;
    img im = make_img(H, W, 3, 3), out = make_img(H, W, 3, 0), ref = make_img(H, W, 3, 0);
    img mask = make_mask(H, W, 0, 0, 0, 0), bin = make_mask(H, W, 0, 0, 0, 0);
    static const uint8_t known[] = {0, 1, 100, 126, 127};
    static const uint8_t hole[] = {128, 129, 200, 254, 255};
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++, n++) {
            int in = y >= Y0 && y < Y0 + HH && x >= X0 && x < X0 + WW;
            /* a ring of 127 right around the hole, 128 on the hole's own border */
            int ring = !in && y >= Y0 - 1 && y <= Y0 + HH && x >= X0 - 1 && x <= X0 + WW;
            int border = in && (y == Y0 || y == Y0 + HH - 1 || x == X0 || x == X0 + WW - 1);
            mask.mem[y * W + x] = in ? (border ? 128 : hole[n % 5]) : ring ? 127 : known[n % 5];
            bin.mem[y * W + x] = in ? 255 : 0;
        }
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, out.t) == GI_OK, "threshold: %s", gi_last_error());
    CHECK(gi_inpaint(s, im.t, bin.t, NULL, ref.t) == GI_OK, "binary mask: %s", gi_last_error());
    int known_same = 1, right_same = 1, changed = 0, first_bad = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *a = im.mem + y * (W * 3 + 3) + x * 3, *b = out.mem + y * W * 3 + x * 3;
            if (mask.mem[y * W + x] <= 127) {
                if (memcmp(a, b, 3)) {
                    known_same = 0;
                    if (first_bad < 0) first_bad = y * W + x;
                    if (x >= X0 + WW) right_same = 0;
                }
            } else if (memcmp(a, b, 3)) {
                changed++;
            }
        }
    CHECK(known_same, "a known pixel changed (first at y=%d x=%d, mask %d)",
          first_bad < 0 ? 0 : first_bad / W, first_bad < 0 ? 0 : first_bad % W,
          first_bad < 0 ? 0 : mask.mem[first_bad]);
    CHECK(right_same, "a known pixel right of the hole changed");
    CHECK(changed > HH * WW / 2, "only %d of %d hole pixels changed", changed, HH * WW);
    CHECK(same_pixels(&out, &ref), "mask values 1..127 / 128..254 differ from 0 / 255");
    free_img(&im), free_img(&out), free_img(&ref), free_img(&mask), free_img(&bin);
    gi_session_destroy(s);
}

/* The mask rule (include/gatedinpaint.h) through gi_inpaint and the mask
 * helpers, and grey and 16-bit images: the network sees 8-bit RGB, known
 * pixels come back bit-identical. */
static void test_mask_rule_and_depths(gi_model *m, int32_t strategy) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
    gi_session_set_int(s, GI_OPT_STRATEGY, strategy);
    const int H = 33, W = 27, N = H * W;
    img im = make_img(H, W, 3, 0), ref = make_img(H, W, 3, 0), out = make_img(H, W, 3, 0);
    img mask = make_mask(H, W, 8, 6, 10, 12); /* 255 in the hole, 100 elsewhere */
    img m01 = make_img(H, W, 1, 0), m02 = make_img(H, W, 1, 0);
    for (int i = 0; i < N; i++) {
        m01.mem[i] = mask.mem[i] > 127;
        m02.mem[i] = (uint8_t)(2 * m01.mem[i]);
    }
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, ref.t) == GI_OK, "0/255: %s", gi_last_error());
    CHECK(gi_inpaint(s, im.t, m01.t, NULL, out.t) == GI_OK, "0/1: %s", gi_last_error());
    CHECK(same_pixels(&out, &ref), "a 0/1 mask fills like the same mask in 0/255");
    CHECK(gi_inpaint(s, im.t, m02.t, NULL, out.t) == GI_OK && same_pixels(&out, &im),
          "a 0/2 mask is not 0/1: nothing > 127, the image is copied");
    gi_tensor *norm = NULL;
    CHECK(gi_mask_normalize(m01.t, &norm) == GI_OK, "normalize 0/1");
    CHECK(gi_mask_dilate(m01.t, 0) == GI_OK, "dilate 0/1");
    int agree = 1;
    for (int i = 0; i < N; i++)
        agree &= ((uint8_t *)gi_tensor_data(norm))[i] == (mask.mem[i] > 127 ? 255 : 0) &&
                 m01.mem[i] == ((uint8_t *)gi_tensor_data(norm))[i];
    CHECK(agree, "gi_mask_normalize and gi_mask_dilate read the 0/1 mask like gi_inpaint");
    gi_tensor_destroy(norm);

    /* Grey and grey+alpha: the fill is the luma of the RGB fill of the grey
     * image replicated. */
    img g = make_img(H, W, 2, 3), gout = make_img(H, W, 2, 1);
    img g3 = make_img(H, W, 3, 0), g3out = make_img(H, W, 3, 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memset(g3.mem + (y * W + x) * 3, g.mem[y * (2 * W + 3) + 2 * x], 3);
    CHECK(gi_inpaint(s, g3.t, mask.t, NULL, g3out.t) == GI_OK, "grey as RGB");
    CHECK(gi_inpaint(s, g.t, mask.t, NULL, gout.t) == GI_OK, "grey+alpha: %s", gi_last_error());
    int grey_ok = 1, grey_changed = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *a = g.mem + y * (2 * W + 3) + 2 * x, *b = gout.mem + y * (2 * W + 1) + 2 * x;
            const uint8_t *f = g3out.mem + (y * W + x) * 3;
            const uint8_t luma = (uint8_t)((19595u * f[0] + 38470u * f[1] + 7471u * f[2] + 32768u) >> 16);
            const int hole = mask.mem[y * W + x] > 127;
            grey_ok &= b[1] == a[1] && b[0] == (hole ? luma : a[0]);
            grey_changed |= hole && b[0] != a[0];
        }
    CHECK(grey_ok && grey_changed, "grey+alpha: known pixels and alpha exact, the hole is luma");

    /* 16 bits: the network sees the samples rounded to 8 bits (here the 8-bit
     * image: offsets below 128 round away); the hole gets the fill x257. */
    uint16_t *p16 = malloc(sizeof(uint16_t) * N * 3), *o16 = malloc(sizeof(uint16_t) * N * 3);
    for (int i = 0; i < N * 3; i++) {
        int v = im.mem[i] * 257 + (i * 37) % 241 - 120;
        p16[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
    }
    gi_tensor *t16 = NULL, *u16 = NULL;
    gi_tensor_wrap(GI_DTYPE_U16, H, W, 3, p16, (size_t)W * 3 * 2, &t16);
    gi_tensor_wrap(GI_DTYPE_U16, H, W, 3, o16, (size_t)W * 3 * 2, &u16);
    CHECK(gi_inpaint(s, t16, mask.t, NULL, u16) == GI_OK, "16-bit: %s", gi_last_error());
    int exact16 = 1;
    for (int i = 0; i < N * 3; i++)
        exact16 &= o16[i] == (mask.mem[i / 3] > 127 ? ref.mem[i] * 257 : p16[i]);
    CHECK(exact16, "16-bit: known samples exact, hole = 8-bit fill x 257");
    CHECK_ERR(gi_inpaint(s, t16, mask.t, NULL, out.t), GI_E_SHAPE, "GI_DTYPE_U16, like image");

    gi_tensor_destroy(t16), gi_tensor_destroy(u16);
    free(p16), free(o16);
    free_img(&im), free_img(&ref), free_img(&out), free_img(&mask), free_img(&m01);
    free_img(&m02), free_img(&g), free_img(&gout), free_img(&g3), free_img(&g3out);
    gi_session_destroy(s);
}

/* GI_STRATEGY_REGIONS: far-apart holes are filled independently (each
 * region's result is the same with or without the other hole), only hole
 * pixels change, and the working memory follows the hole, not the photo. */
static void test_regions(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    const int H = 420, W = 640;
    img im = make_img(H, W, 3, 0), both = make_img(H, W, 3, 0), one = make_img(H, W, 3, 0);
    img mask2 = make_mask(H, W, 30, 40, 20, 24), mask1 = make_mask(H, W, 30, 40, 20, 24);
    for (int y = 300; y < 330; y++) /* a second hole, far from the first */
        for (int x = 560; x < 600; x++) mask2.mem[y * W + x] = 255;
    int64_t n = -1, k = -1;
    CHECK(gi_inpaint(s, im.t, mask2.t, NULL, both.t) == GI_OK, "two holes: %s", gi_last_error());
    CHECK(gi_session_get_int(s, GI_OPT_LAST_REGIONS, &n) == GI_OK && n == 2, "%lld regions",
          (long long)n);
    CHECK(gi_session_get_int(s, GI_OPT_LAST_SCALE, &k) == GI_OK && k == 1, "scale %lld",
          (long long)k);
    gi_arena_release(&s->arena);
    CHECK(gi_inpaint(s, im.t, mask1.t, NULL, one.t) == GI_OK, "one hole: %s", gi_last_error());
    int outside_same = 1, first_same = 1, second_changed = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *a = im.mem + (y * W + x) * 3, *b = both.mem + (y * W + x) * 3;
            const uint8_t *c = one.mem + (y * W + x) * 3;
            if (mask2.mem[y * W + x] <= 127 && memcmp(a, b, 3)) outside_same = 0;
            if (mask1.mem[y * W + x] > 127 && memcmp(b, c, 3)) first_same = 0;
            if (mask2.mem[y * W + x] > 127 && mask1.mem[y * W + x] <= 127 && memcmp(a, b, 3))
                second_changed = 1;
        }
    CHECK(outside_same, "regions: pixels outside the holes changed");
    CHECK(first_same, "regions: the first hole's fill depends on the far second hole");
    CHECK(second_changed, "regions: the second hole was not filled");

    /* The same hole in a photo 3x as wide and high: the same arena. */
    size_t small = s->arena.size;
    const int H4 = 3 * H, W4 = 3 * W;
    img big = make_img(H4, W4, 3, 0), bigout = make_img(H4, W4, 3, 0);
    img bigmask = make_mask(H4, W4, 30, 40, 20, 24);
    gi_arena_release(&s->arena);
    CHECK(gi_inpaint(s, big.t, bigmask.t, NULL, bigout.t) == GI_OK, "big: %s", gi_last_error());
    CHECK(s->arena.size == small, "arena %zu bytes for the big photo, %zu for the small one",
          s->arena.size, small);
    /* and a memory limit far below the exact strategy's need is enough */
    gi_session_set_int(s, GI_OPT_MEM_LIMIT, (int64_t)small + (1 << 20));
    CHECK(gi_inpaint(s, big.t, bigmask.t, NULL, bigout.t) == GI_OK, "big under a limit: %s",
          gi_last_error());
    gi_session_set_int(s, GI_OPT_STRATEGY, GI_STRATEGY_EXACT);
    CHECK_ERR(gi_inpaint(s, big.t, bigmask.t, NULL, bigout.t), GI_E_NOMEM, "GI_OPT_MEM_LIMIT");
    free_img(&im), free_img(&both), free_img(&one), free_img(&mask2), free_img(&mask1);
    free_img(&big), free_img(&bigout), free_img(&bigmask);
    gi_session_destroy(s);
}

/* How much of a checkerboard (+40 where x + y is odd, -40 elsewhere) the
 * hole's interior (2 px in) holds: the mean of (pixel - right neighbour)
 * signed by the checkerboard's phase; 80 for the full pattern, near 0 for
 * a fill that does not follow it (noise included). */
static double hole_checker(const img *im, int y0, int x0, int hh, int ww) {
    double sum = 0;
    int n = 0;
    for (int y = y0 + 2; y < y0 + hh - 2; y++)
        for (int x = x0 + 2; x < x0 + ww - 3; x++)
            for (int c = 0; c < 3; c++, n++)
                sum += ((x + y) % 2 ? 1 : -1) * ((int)im->mem[(y * im->w + x) * 3 + c] -
                                                 (int)im->mem[(y * im->w + x + 1) * 3 + c]);
    return sum / n;
}

/* The regions strategy adds back, through the attention, the high
 * frequencies of the background (docs/ENGINE.md, "Detail"): a fine
 * checkerboard (period 2 px, +-40) over a smooth ramp must continue into the
 * hole. The exact strategy (the network alone) shows what the net gives.
 * Measured with the random test model: regions 40 (overlapping copies do
 * not all keep the phase), exact -2, regions without the aggregation 0. */
static void test_residual_aggregation(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    const int H = 160, W = 192, y0 = 56, x0 = 72, hh = 40, ww = 48;
    img im = make_img(H, W, 3, 0), a = make_img(H, W, 3, 0), b = make_img(H, W, 3, 0);
    img mask = make_mask(H, W, y0, x0, hh, ww);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                im.mem[(y * W + x) * 3 + c] =
                    (uint8_t)(60 + x / 2 + 20 * c + ((x + y) % 2 ? 40 : -40));
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, a.t) == GI_OK, "regions: %s", gi_last_error());
    gi_session_set_int(s, GI_OPT_STRATEGY, GI_STRATEGY_EXACT);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, b.t) == GI_OK, "exact: %s", gi_last_error());
    double ar = hole_checker(&a, y0, x0, hh, ww), ae = hole_checker(&b, y0, x0, hh, ww);
    CHECK(ar > 20 && fabs(ae) < 10, "checkerboard in the hole: regions %.1f, exact %.1f (full 80)",
          ar, ae);
    free_img(&im), free_img(&a), free_img(&b), free_img(&mask);
    gi_session_destroy(s);
}

/* The attention skips queries that cannot reach the hole; asking for the
 * stage outputs (debug taps) computes all of them. The composited result
 * must be the same to the bit. */
static void test_attention_pruning(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    const int H = 160, W = 144;
    img im = make_img(H, W, 3, 0), a = make_img(H, W, 3, 0), b = make_img(H, W, 3, 0);
    img mask = make_mask(H, W, 12, 100, 10, 14); /* small hole near a corner */
    gi_session_set_int(s, GI_OPT_STRATEGY, GI_STRATEGY_EXACT); /* the taps are exact's */
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, a.t) == GI_OK, "pruned: %s", gi_last_error());
    gi_debug_taps taps = {0, 0, NULL, NULL};
    gi_session_set_debug_taps(s, &taps);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, b.t) == GI_OK, "full: %s", gi_last_error());
    gi_session_set_debug_taps(s, NULL);
    free(taps.x_stage1);
    free(taps.x_stage2);
    CHECK(same_pixels(&a, &b), "skipping far attention queries changed the result");
    free_img(&im), free_img(&a), free_img(&b), free_img(&mask);
    gi_session_destroy(s);
}

static void test_guide(void) {
    gi_model *m = load_test_model(8, 1);
    int64_t g = -1;
    gi_model_get_int(m, GI_MODEL_GUIDE_CHANNELS, &g);
    CHECK(g == 1, "guide channels %lld", (long long)g);
    gi_session *s = NULL;
    gi_session_create(m, &s);
    img im = make_img(24, 24, 3, 0), mask = make_mask(24, 24, 4, 4, 12, 12);
    img guide = make_mask(24, 24, 10, 0, 2, 24); /* a horizontal line */
    img a = make_img(24, 24, 3, 0), b = make_img(24, 24, 3, 0);
    CHECK(gi_inpaint(s, im.t, mask.t, NULL, a.t) == GI_OK, "no guide: %s", gi_last_error());
    CHECK(gi_inpaint(s, im.t, mask.t, guide.t, b.t) == GI_OK, "guide: %s", gi_last_error());
    CHECK(!same_pixels(&a, &b), "the guide had no effect");
    free_img(&im), free_img(&mask), free_img(&guide), free_img(&a), free_img(&b);
    gi_session_destroy(s);
    gi_model_release(m);
}

/* guided_pushpull through gi_inpaint: without a guide it is push-pull, bit
 * for bit; a guide line across the hole changes the pre-fill. */
static void test_guided_prefill(void) {
    gi_model *pp = load_fill_model(8, 1, "pushpull");
    gi_model *gp = load_fill_model(8, 1, "guided_pushpull");
    gi_session *sp = NULL, *sg = NULL;
    gi_session_create(pp, &sp);
    gi_session_create(gp, &sg);
    img im = make_img(30, 28, 3, 0), mask = make_mask(30, 28, 6, 5, 16, 18);
    img guide = make_mask(30, 28, 0, 13, 30, 2); /* a vertical line */
    img a = make_img(30, 28, 3, 0), b = make_img(30, 28, 3, 0);
    CHECK(gi_inpaint(sp, im.t, mask.t, NULL, a.t) == GI_OK, "pushpull: %s", gi_last_error());
    CHECK(gi_inpaint(sg, im.t, mask.t, NULL, b.t) == GI_OK, "guided: %s", gi_last_error());
    CHECK(same_pixels(&a, &b), "guided_pushpull without a guide differs from pushpull");
    CHECK(gi_inpaint(sp, im.t, mask.t, guide.t, a.t) == GI_OK, "pushpull: %s", gi_last_error());
    CHECK(gi_inpaint(sg, im.t, mask.t, guide.t, b.t) == GI_OK, "guided: %s", gi_last_error());
    CHECK(!same_pixels(&a, &b), "guided_pushpull: the guide did not change the pre-fill");
    free_img(&im), free_img(&mask), free_img(&guide), free_img(&a), free_img(&b);
    gi_session_destroy(sp);
    gi_session_destroy(sg);
    gi_model_release(pp);
    gi_model_release(gp);
}

static void test_ops(gi_model *m) {
    gi_session *s = NULL;
    gi_session_create(m, &s);
    /* 1x1 identity convolution plus bias, stride 2 (TF SAME: ceil(5/2) = 3). */
    gi_tensor *in = NULL, *out = NULL, *bad = NULL;
    gi_tensor_create(GI_DTYPE_F32, 5, 6, 2, &in);
    gi_tensor_create(GI_DTYPE_F32, 3, 3, 2, &out);
    gi_tensor_create(GI_DTYPE_F32, 3, 4, 2, &bad);
    float *x = gi_tensor_data(in);
    for (int i = 0; i < 5 * 6 * 2; i++) x[i] = (float)i;
    const float w[4] = {1, 0, 0, 1}, b[2] = {0.5f, -0.5f};
    CHECK(gi_op_gated_conv2d(s, in, w, b, 2, 1, 2, 1, GI_ACT_NONE, 0, out) == GI_OK, "op conv: %s",
          gi_last_error());
    const float *y = gi_tensor_data(out);
    CHECK(y[0] == 0.5f && y[1] == 0.5f && y[2] == 4.5f && y[(1 * 3 + 0) * 2] == 24.5f,
          "1x1 stride-2 conv values %g %g %g %g", y[0], y[1], y[2], y[6]);
    CHECK_ERR(gi_op_gated_conv2d(s, in, w, b, 2, 1, 2, 1, GI_ACT_NONE, 0, bad), GI_E_SHAPE,
              "expected 3x3x2");
    CHECK_ERR(gi_op_gated_conv2d(s, in, w, b, 3, 1, 1, 1, GI_ACT_ELU_GATED, 0, out),
              GI_E_INVALID_ARG, "even cconv");
    CHECK_ERR(gi_op_gated_conv2d(s, in, w, b, 2, 1, 1, 1, 42, 0, out), GI_E_INVALID_ARG,
              "activation 42");
    CHECK_ERR(gi_op_gated_conv2d(s, in, NULL, b, 2, 1, 1, 1, GI_ACT_NONE, 0, out),
              GI_E_INVALID_ARG, "weight");
    /* Attention: shape checks, and a map with no hole stays finite. */
    gi_tensor *f = NULL, *fy = NULL, *odd = NULL;
    gi_tensor_create(GI_DTYPE_F32, 8, 6, 4, &f);
    gi_tensor_create(GI_DTYPE_F32, 8, 6, 4, &fy);
    gi_tensor_create(GI_DTYPE_F32, 7, 6, 4, &odd);
    float *fv = gi_tensor_data(f);
    for (int i = 0; i < 8 * 6 * 4; i++) fv[i] = (float)((i * 37) % 11) / 11.0f;
    CHECK(gi_op_contextual_attention(s, f, NULL, 1, 10.0f, fy) == GI_OK, "op attention: %s",
          gi_last_error());
    const float *yv = gi_tensor_data(fy);
    int finite = 1;
    for (int i = 0; i < 8 * 6 * 4; i++) finite &= isfinite(yv[i]) != 0;
    CHECK(finite, "attention output not finite");
    CHECK_ERR(gi_op_contextual_attention(s, odd, NULL, 1, 10.0f, odd), GI_E_SHAPE, "even");
    CHECK_ERR(gi_op_contextual_attention(s, f, NULL, 1, 10.0f, odd), GI_E_SHAPE, "output is 7x6x4");
    CHECK_ERR(gi_op_contextual_attention(s, f, NULL, 1, -1.0f, fy), GI_E_INVALID_ARG, "softmax_scale");
    gi_tensor_destroy(in), gi_tensor_destroy(out), gi_tensor_destroy(bad);
    gi_tensor_destroy(f), gi_tensor_destroy(fy), gi_tensor_destroy(odd);
    gi_session_destroy(s);
}

int main(void) {
    test_basics();
    gi_model *m = load_test_model(8, 0);
    if (!m) return 1;
    test_session_options(m);
    test_inpaint_errors(m);
    test_inpaint_behaviour(m, GI_STRATEGY_REGIONS);
    test_inpaint_behaviour(m, GI_STRATEGY_EXACT);
    test_threshold_and_known_pixels(m, GI_STRATEGY_REGIONS);
    test_threshold_and_known_pixels(m, GI_STRATEGY_EXACT);
    test_mask_rule_and_depths(m, GI_STRATEGY_REGIONS);
    test_mask_rule_and_depths(m, GI_STRATEGY_EXACT);
    test_regions(m);
    test_residual_aggregation(m);
    test_guide();
    test_guided_prefill();
    test_attention_pruning(m);
    test_ops(m);
    gi_model_release(m);
    return check_report();
}
