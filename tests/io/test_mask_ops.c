/* gi_mask_normalize, gi_mask_dilate, gi_blend_feather: the 0/1 rule, the
 * square dilation and the feathered composite against brute-force
 * references on random masks, and their argument errors. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../common/check.h"
#include "gatedinpaint.h"

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

static gi_tensor *make(int32_t h, int32_t w, int32_t c) {
    gi_tensor *t = NULL;
    if (gi_tensor_create(GI_DTYPE_U8, h, w, c, &t)) {
        fprintf(stderr, "gi_tensor_create: %s\n", gi_last_error());
        exit(1);
    }
    return t;
}

static uint8_t *px(gi_tensor *t, int32_t y, int32_t x) {
    int32_t c;
    gi_tensor_shape(t, NULL, NULL, &c);
    return (uint8_t *)gi_tensor_data(t) + (size_t)y * gi_tensor_row_stride(t) + (size_t)x * c;
}

/* A mask with a few random rectangles of holes, hole value `on`. */
static gi_tensor *random_mask(int32_t h, int32_t w, uint8_t on) {
    gi_tensor *m = make(h, w, 1);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) *px(m, y, x) = 0;
    for (int r = 0; r < 3; r++) {
        int32_t y0 = (int32_t)(next_rand() % (uint32_t)h), x0 = (int32_t)(next_rand() % (uint32_t)w);
        int32_t y1 = y0 + 1 + (int32_t)(next_rand() % 5), x1 = x0 + 1 + (int32_t)(next_rand() % 7);
        for (int32_t y = y0; y < y1 && y < h; y++)
            for (int32_t x = x0; x < x1 && x < w; x++) *px(m, y, x) = on;
    }
    return m;
}

static void test_normalize(void) {
    /* 0/1: non-zero is a hole. */
    gi_tensor *m = make(4, 5, 1), *n = NULL;
    for (int32_t y = 0; y < 4; y++)
        for (int32_t x = 0; x < 5; x++) *px(m, y, x) = (uint8_t)((x + y) % 2);
    CHECK(gi_mask_normalize(m, &n) == GI_OK, "0/1 mask");
    int bad = 0;
    for (int32_t y = 0; y < 4; y++)
        for (int32_t x = 0; x < 5; x++) bad += *px(n, y, x) != ((x + y) % 2 ? 255 : 0);
    CHECK(bad == 0, "0/1 mask: %d pixels wrong", bad);
    gi_tensor_destroy(n);
    /* Anything else: > 127. */
    const uint8_t values[5] = {0, 2, 127, 128, 255};
    for (int32_t y = 0; y < 4; y++)
        for (int32_t x = 0; x < 5; x++) *px(m, y, x) = values[x];
    CHECK(gi_mask_normalize(m, &n) == GI_OK, "0..255 mask");
    bad = 0;
    for (int32_t y = 0; y < 4; y++)
        for (int32_t x = 0; x < 5; x++) bad += *px(n, y, x) != (values[x] > 127 ? 255 : 0);
    CHECK(bad == 0, "0..255 mask: %d pixels wrong", bad);
    gi_tensor_destroy(n);
    /* All zero stays empty. */
    for (int32_t y = 0; y < 4; y++)
        for (int32_t x = 0; x < 5; x++) *px(m, y, x) = 0;
    CHECK(gi_mask_normalize(m, &n) == GI_OK && *px(n, 2, 2) == 0, "empty mask stays empty");
    gi_tensor_destroy(n);

    gi_tensor *rgb = make(4, 5, 3);
    n = (gi_tensor *)1;
    CHECK_ERR(gi_mask_normalize(NULL, &n), GI_E_INVALID_ARG, "mask is NULL");
    CHECK(n == NULL, "out cleared on error");
    CHECK_ERR(gi_mask_normalize(m, NULL), GI_E_INVALID_ARG, "out is NULL");
    CHECK_ERR(gi_mask_normalize(rgb, &n), GI_E_SHAPE, "3 channels");
    gi_tensor *f = NULL;
    gi_tensor_create(GI_DTYPE_F32, 4, 5, 1, &f);
    CHECK_ERR(gi_mask_normalize(f, &n), GI_E_INVALID_ARG, "dtype");
    gi_tensor_destroy(f);
    gi_tensor_destroy(rgb);
    gi_tensor_destroy(m);
}

static void test_dilate(void) {
    for (int trial = 0; trial < 40; trial++) {
        const int32_t h = 1 + (int32_t)(next_rand() % 30), w = 1 + (int32_t)(next_rand() % 30);
        const int32_t r = (int32_t)(next_rand() % 6);
        gi_tensor *m = random_mask(h, w, (uint8_t)(128 + next_rand() % 128));
        gi_tensor *ref = make(h, w, 1);
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                int hole = 0;
                for (int32_t v = y - r; v <= y + r; v++)
                    for (int32_t u = x - r; u <= x + r; u++)
                        if (v >= 0 && v < h && u >= 0 && u < w && *px(m, v, u) > 127) hole = 1;
                *px(ref, y, x) = hole ? 255 : 0;
            }
        CHECK(gi_mask_dilate(m, r) == GI_OK, "dilate %dx%d by %d", (int)w, (int)h, (int)r);
        int bad = 0;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) bad += *px(m, y, x) != *px(ref, y, x);
        CHECK(bad == 0, "dilate %dx%d by %d: %d pixels differ from the square reference",
              (int)w, (int)h, (int)r, bad);
        gi_tensor_destroy(ref);
        gi_tensor_destroy(m);
    }
    /* The hole rule at its edge: 127 is known, 128 a hole. */
    static const uint8_t edge[5] = {0, 127, 128, 126, 0};
    static const uint8_t want0[5] = {0, 0, 255, 0, 0}, want1[5] = {0, 255, 255, 255, 0};
    for (int32_t r = 0; r <= 1; r++) {
        gi_tensor *e = make(1, 5, 1);
        for (int32_t x = 0; x < 5; x++) *px(e, 0, x) = edge[x];
        CHECK(gi_mask_dilate(e, r) == GI_OK, "dilate the 127/128 row by %d", (int)r);
        int bad = 0;
        for (int32_t x = 0; x < 5; x++) bad += *px(e, 0, x) != (r ? want1 : want0)[x];
        CHECK(bad == 0, "dilate by %d: 127 must stay known, 128 is a hole (%d wrong)", (int)r,
              bad);
        gi_tensor_destroy(e);
    }
    gi_tensor *m = make(3, 3, 1), *rgb = make(3, 3, 3);
    CHECK_ERR(gi_mask_dilate(NULL, 1), GI_E_INVALID_ARG, "mask is NULL");
    CHECK_ERR(gi_mask_dilate(m, -1), GI_E_INVALID_ARG, "radius is -1");
    CHECK_ERR(gi_mask_dilate(rgb, 1), GI_E_SHAPE, "3 channels");
    gi_tensor_destroy(rgb);
    gi_tensor_destroy(m);
}

/* The band weight at (y, x): 1 in the hole, 1 - d / r at distance d < r
 * from it, else 0 (brute force over every hole pixel). */
static double alpha_at(gi_tensor *m, int32_t y, int32_t x, int32_t r) {
    int32_t h, w;
    gi_tensor_shape(m, &h, &w, NULL);
    double best = INFINITY;
    for (int32_t v = 0; v < h; v++)
        for (int32_t u = 0; u < w; u++)
            if (*px(m, v, u) > 127) {
                double d = sqrt((double)(v - y) * (v - y) + (double)(u - x) * (u - x));
                if (d < best) best = d;
            }
    return best == 0 ? 1 : best < r ? 1 - best / r : 0;
}

static void test_feather(void) {
    for (int trial = 0; trial < 30; trial++) {
        const int32_t h = 1 + (int32_t)(next_rand() % 25), w = 1 + (int32_t)(next_rand() % 25);
        const int32_t c = 1 + (int32_t)(next_rand() % 4), r = (int32_t)(next_rand() % 7);
        gi_tensor *m = random_mask(h, w, 255);
        gi_tensor *img = make(h, w, c), *fill = make(h, w, c), *out = make(h, w, c);
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++)
                for (int32_t k = 0; k < c; k++) {
                    px(img, y, x)[k] = (uint8_t)next_rand();
                    px(fill, y, x)[k] = (uint8_t)next_rand();
                }
        CHECK(gi_blend_feather(img, m, fill, r, out) == GI_OK, "feather %d", (int)r);
        int bad = 0, outside_changed = 0;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                const double alpha = alpha_at(m, y, x, r);
                for (int32_t k = 0; k < c; k++) {
                    const int a = px(img, y, x)[k], b = px(fill, y, x)[k], o = px(out, y, x)[k];
                    if (alpha == 0) {
                        outside_changed += o != a;
                    } else {
                        const double want = alpha * b + (1 - alpha) * a;
                        bad += fabs(o - want) > 0.51;
                    }
                }
            }
        CHECK(outside_changed == 0, "feather %d: %d values outside hole + band changed",
              (int)r, outside_changed);
        CHECK(bad == 0, "feather %d: %d values off the blend", (int)r, bad);
        /* In place into the image gives the same. */
        CHECK(gi_blend_feather(img, m, fill, r, img) == GI_OK &&
                  memcmp(gi_tensor_data(img), gi_tensor_data(out),
                         gi_tensor_row_stride(img) * (size_t)h) == 0,
              "feather in place");
        gi_tensor_destroy(img);
        gi_tensor_destroy(fill);
        gi_tensor_destroy(out);
        gi_tensor_destroy(m);
    }
    gi_tensor *m = make(4, 4, 1), *img = make(4, 4, 3), *small = make(4, 3, 3),
              *gray = make(4, 4, 1);
    CHECK_ERR(gi_blend_feather(NULL, m, img, 1, img), GI_E_INVALID_ARG, "image is NULL");
    CHECK_ERR(gi_blend_feather(img, NULL, img, 1, img), GI_E_INVALID_ARG, "mask is NULL");
    CHECK_ERR(gi_blend_feather(img, m, NULL, 1, img), GI_E_INVALID_ARG, "filled is NULL");
    CHECK_ERR(gi_blend_feather(img, m, img, 1, NULL), GI_E_INVALID_ARG, "out is NULL");
    CHECK_ERR(gi_blend_feather(img, m, img, -2, img), GI_E_INVALID_ARG, "radius is -2");
    CHECK_ERR(gi_blend_feather(img, img, img, 1, img), GI_E_SHAPE, "3 channels");
    CHECK_ERR(gi_blend_feather(img, m, small, 1, img), GI_E_SHAPE, "filled is 4x3x3");
    CHECK_ERR(gi_blend_feather(img, m, img, 1, gray), GI_E_SHAPE, "out is 4x4x1");
    gi_tensor_destroy(m);
    gi_tensor_destroy(img);
    gi_tensor_destroy(small);
    gi_tensor_destroy(gray);
}

/* 16-bit images blend at 16 bits; a 0/1 mask is read by the mask rule. */
static void test_feather_16bit_and_rule(void) {
    const int32_t h = 13, w = 17, c = 3, r = 4;
    gi_tensor *m = random_mask(h, w, 255), *m01 = random_mask(h, w, 1);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) *px(m01, y, x) = *px(m, y, x) > 127;
    gi_tensor *img = NULL, *fill = NULL, *out = NULL, *out01 = NULL;
    gi_tensor_create(GI_DTYPE_U16, h, w, c, &img);
    gi_tensor_create(GI_DTYPE_U16, h, w, c, &fill);
    gi_tensor_create(GI_DTYPE_U16, h, w, c, &out);
    gi_tensor_create(GI_DTYPE_U16, h, w, c, &out01);
    uint16_t *a = gi_tensor_data(img), *b = gi_tensor_data(fill), *o = gi_tensor_data(out);
    for (int32_t i = 0; i < h * w * c; i++) {
        a[i] = (uint16_t)next_rand();
        b[i] = (uint16_t)next_rand();
    }
    CHECK(gi_blend_feather(img, m, fill, r, out) == GI_OK, "16-bit feather: %s", gi_last_error());
    int bad = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            const double alpha = alpha_at(m, y, x, r);
            for (int32_t k = 0; k < c; k++) {
                const int32_t i = (y * w + x) * c + k;
                const double want = alpha * b[i] + (1 - alpha) * a[i];
                bad += alpha == 0 ? o[i] != a[i] : fabs(o[i] - want) > 0.51;
            }
        }
    CHECK(bad == 0, "16-bit feather: %d samples off the blend or changed beyond the band", bad);
    CHECK(gi_blend_feather(img, m01, fill, r, out01) == GI_OK &&
              memcmp(gi_tensor_data(out01), o, sizeof(uint16_t) * (size_t)(h * w * c)) == 0,
          "a 0/1 mask blends like the same mask in 0/255");
    gi_tensor *u8 = make(h, w, c);
    CHECK_ERR(gi_blend_feather(img, m, u8, r, out), GI_E_INVALID_ARG, "the same for image");
    gi_tensor_destroy(u8), gi_tensor_destroy(img), gi_tensor_destroy(fill);
    gi_tensor_destroy(out), gi_tensor_destroy(out01), gi_tensor_destroy(m), gi_tensor_destroy(m01);
}

int main(void) {
    test_normalize();
    test_dilate();
    test_feather();
    test_feather_16bit_and_rule();
    return check_report();
}
