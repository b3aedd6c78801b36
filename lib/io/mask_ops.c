/* Mask helpers for everyday masks: the mask rule (gi_mask_normalize, the
 * rule itself is lib/common/mask_rule.c), growing the hole (gi_mask_dilate)
 * and a soft seam (gi_blend_feather). Plain loops over tensors: they depend
 * on lib/common only. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../common/error.h"
#include "../common/mask_rule.h"
#include "../common/pixels.h"
#include "../common/tensor.h"

/* NULL, dtype and channel checks shared by the three functions. */
static gi_status check_mask(const char *fn, const gi_tensor *mask) {
    if (!mask) return gi_fail(GI_E_INVALID_ARG, "%s: mask is NULL", fn);
    if (mask->dtype != GI_DTYPE_U8)
        return gi_fail(GI_E_INVALID_ARG, "%s: mask dtype is %d, not GI_DTYPE_U8", fn,
                       (int)mask->dtype);
    if (mask->c != 1)
        return gi_fail(GI_E_SHAPE, "%s: mask has %d channels, expected 1", fn, (int)mask->c);
    return GI_OK;
}

gi_status gi_mask_normalize(const gi_tensor *mask, gi_tensor **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_mask_normalize: out is NULL");
    *out = NULL;
    gi_status st = check_mask("gi_mask_normalize", mask);
    if (st) return st;
    st = gi_mask_binarize(mask, out);
    if (st) gi_error_prefix("gi_mask_normalize");
    return st;
}

/* One pass of a square max filter along a line of n values with stride
 * `step`: hole[i] = any hole within [i - r, i + r]. `line` is scratch. */
static void dilate_line(uint8_t *p, size_t step, int32_t n, int32_t r, uint8_t threshold,
                        uint8_t *line) {
    for (int32_t i = 0; i < n; i++) line[i] = p[(size_t)i * step] > threshold;
    int32_t count = 0; /* holes in the window [i - r, i + r] */
    for (int32_t i = 0; i < r && i < n; i++) count += line[i];
    for (int32_t i = 0; i < n; i++) {
        if (i + r < n) count += line[i + r];
        if (i - r - 1 >= 0) count -= line[i - r - 1];
        p[(size_t)i * step] = count > 0 ? 255 : 0;
    }
}

gi_status gi_mask_dilate(gi_tensor *mask, int32_t radius) {
    gi_status st = check_mask("gi_mask_dilate", mask);
    if (st) return st;
    if (radius < 0)
        return gi_fail(GI_E_INVALID_ARG, "gi_mask_dilate: radius is %d, must be >= 0",
                       (int)radius);
    const int32_t n = mask->h > mask->w ? mask->h : mask->w;
    uint8_t *line = malloc((size_t)(n > 0 ? n : 1));
    if (!line) return gi_fail(GI_E_NOMEM, "gi_mask_dilate: out of memory");
    /* The rows pass leaves 0/255, so the columns pass uses 127. */
    const uint8_t threshold = gi_mask_threshold(mask);
    for (int32_t y = 0; y < mask->h; y++)
        dilate_line(gi_tensor_row(mask, y), 1, mask->w, radius, threshold, line);
    for (int32_t x = 0; x < mask->w && mask->h > 0; x++)
        dilate_line((uint8_t *)gi_tensor_row(mask, 0) + x, mask->row_stride, mask->h, radius,
                    127, line);
    free(line);
    return GI_OK;
}

/* Stands for "no hole in reach": larger than any squared distance. */
#define FAR 1e20

/* 1-D squared Euclidean distance transform of f[0..n) (Felzenszwalb and
 * Huttenlocher 2012, lower envelope of parabolas) into d; v, z are scratch
 * of n and n + 1. */
static void edt_1d(const double *f, double *d, int32_t n, int32_t *v, double *z) {
    int32_t k = 0;
    v[0] = 0;
    z[0] = -HUGE_VAL;
    z[1] = HUGE_VAL;
    for (int32_t q = 1; q < n; q++) {
        double s;
        for (;;) {
            const int32_t p = v[k];
            s = ((f[q] + (double)q * q) - (f[p] + (double)p * p)) / (2.0 * (q - p));
            if (s > z[k]) break;
            k--;
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = HUGE_VAL;
    }
    k = 0;
    for (int32_t q = 0; q < n; q++) {
        while (z[k + 1] < q) k++;
        const double dq = q - v[k];
        d[q] = dq * dq + f[v[k]];
    }
}

/* Squared Euclidean distance from every pixel to the nearest hole. */
static double *hole_distance2(const gi_tensor *mask, uint8_t threshold) {
    const int32_t h = mask->h, w = mask->w, n = h > w ? h : w;
    double *dist = malloc(sizeof(double) * (size_t)h * (size_t)w);
    double *f = calloc((size_t)n + 1, sizeof(double)), *d = calloc((size_t)n + 1, sizeof(double));
    double *z = malloc(sizeof(double) * ((size_t)n + 1));
    int32_t *v = malloc(sizeof(int32_t) * (size_t)n);
    bool ok = dist && f && d && z && v;
    if (ok) {
        for (int32_t x = 0; x < w; x++) {
            for (int32_t y = 0; y < h; y++)
                f[y] = ((const uint8_t *)gi_tensor_row(mask, y))[x] > threshold ? 0.0 : FAR;
            edt_1d(f, d, h, v, z);
            for (int32_t y = 0; y < h; y++) dist[(size_t)y * w + x] = d[y];
        }
        for (int32_t y = 0; y < h; y++) {
            double *row = dist + (size_t)y * w;
            for (int32_t x = 0; x < w; x++) f[x] = row[x];
            edt_1d(f, row, w, v, z);
        }
    }
    free(f);
    free(d);
    free(z);
    free(v);
    if (!ok) {
        free(dist);
        return NULL;
    }
    return dist;
}

static bool same_hw(const gi_tensor *a, const gi_tensor *b) {
    return a->h == b->h && a->w == b->w;
}

gi_status gi_blend_feather(const gi_tensor *image, const gi_tensor *mask,
                           const gi_tensor *filled, int32_t radius, gi_tensor *out) {
    static const char fn[] = "gi_blend_feather";
    if (!image || !filled || !out)
        return gi_fail(GI_E_INVALID_ARG, "%s: %s is NULL", fn,
                       !image ? "image" : !filled ? "filled" : "out");
    gi_status st = check_mask(fn, mask);
    if (st) return st;
    if (radius < 0)
        return gi_fail(GI_E_INVALID_ARG, "%s: radius is %d, must be >= 0", fn, (int)radius);
    const gi_tensor *t[3] = {image, filled, out};
    static const char *names[3] = {"image", "filled", "out"};
    for (int i = 0; i < 3; i++) {
        if (t[i]->dtype != image->dtype ||
            (image->dtype != GI_DTYPE_U8 && image->dtype != GI_DTYPE_U16))
            return gi_fail(GI_E_INVALID_ARG,
                           "%s: %s dtype is %d; expected GI_DTYPE_U8 or GI_DTYPE_U16, the "
                           "same for image, filled and out", fn, names[i], (int)t[i]->dtype);
        if (!same_hw(t[i], mask) || t[i]->c != image->c)
            return gi_fail(GI_E_SHAPE, "%s: %s is %dx%dx%d, expected %dx%dx%d (mask %dx%d)", fn,
                           names[i], (int)t[i]->h, (int)t[i]->w, (int)t[i]->c, (int)mask->h,
                           (int)mask->w, (int)image->c, (int)mask->h, (int)mask->w);
    }
    const uint8_t threshold = gi_mask_threshold(mask);
    double *dist = NULL;
    if (radius > 0 && !(dist = hole_distance2(mask, threshold)))
        return gi_fail(GI_E_NOMEM, "%s: out of memory", fn);
    const int32_t c = image->c, dt = image->dtype;
    const float r = (float)radius;
    for (int32_t y = 0; y < image->h; y++) {
        const uint8_t *m = gi_tensor_row(mask, y);
        const void *a = gi_tensor_row(image, y), *b = gi_tensor_row(filled, y);
        void *o = gi_tensor_row(out, y);
        for (int32_t x = 0; x < image->w; x++) {
            float alpha = m[x] > threshold ? 1.0f : 0.0f;
            if (dist && alpha == 0.0f) {
                const float d = (float)sqrt(dist[(size_t)y * image->w + x]);
                if (d < r) alpha = 1.0f - d / r;
            }
            for (size_t k = (size_t)x * c; k < (size_t)(x + 1) * c; k++) {
                const uint32_t va = gi_sample_get(a, dt, k), vb = gi_sample_get(b, dt, k);
                gi_sample_put(o, dt, k,
                              alpha == 1.0f   ? vb
                              : alpha == 0.0f ? va
                                              : (uint32_t)lrintf(alpha * (float)vb +
                                                                 (1.0f - alpha) * (float)va));
            }
        }
    }
    free(dist);
    return GI_OK;
}
