/* gi_inpaint: argument checks, the network input (padding, channel order,
 * normalisation), and compositing the result back into the caller's image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../graph/deepfill.h"
#include "../graph/fill.h"
#include "alloc.h"
#include "error.h"
#include "session.h"
#include "tensor.h"

#define MIN_SIDE 16
#define HOLE_THRESHOLD 127  /* mask value > 127 = hole */
#define EDGE_THRESHOLD 153  /* guide value > 153 (0.6 * 255) = edge */

/* Mirror index for the bottom/right padding (reflect without repeating the
 * edge, like numpy 'reflect'); valid because pads are < 8 <= n - 1. */
static inline int32_t mirror(int32_t i, int32_t n) { return i < n ? i : 2 * (n - 1) - i; }

static gi_status check_u8(const char *what, const gi_tensor *t, int32_t h, int32_t w,
                          int32_t want_c, const gi_tensor *image) {
    if (t->dtype != GI_DTYPE_U8)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s must be GI_DTYPE_U8", what);
    if (t->h != h || t->w != w)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s is %dx%d, image is %dx%d (width x height)",
                       what, (int)t->w, (int)t->h, (int)image->w, (int)image->h);
    if (want_c && t->c != want_c)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s has %d channels, expected %d", what,
                       (int)t->c, (int)want_c);
    return GI_OK;
}

static gi_status check_args(gi_session *s, const gi_tensor *image, const gi_tensor *mask,
                            const gi_tensor *guide, gi_tensor *out) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: session is NULL");
    if (!image) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: image is NULL");
    if (!mask) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: mask is NULL");
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: out is NULL");
    if (image->dtype != GI_DTYPE_U8)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: image must be GI_DTYPE_U8");
    if (image->c != 3 && image->c != 4)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: image has %d channels, expected 3 (RGB) or 4 (RGBA)",
                       (int)image->c);
    if (image->h < MIN_SIDE || image->w < MIN_SIDE)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: image is %dx%d, the minimum is %dx%d",
                       (int)image->w, (int)image->h, MIN_SIDE, MIN_SIDE);
    /* Before any size arithmetic: the limit keeps every product in range. */
    gi_status st = gi_session_check_pixels(s, "gi_inpaint", "image", image->h, image->w);
    if (st) return st;
    st = check_u8("mask", mask, image->h, image->w, 1, image);
    if (!st) st = check_u8("out", out, image->h, image->w, image->c, image);
    if (st) return st;
    if (guide) {
        if (s->model->guide_channels == 0)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_inpaint: a guide was given but model '%s' has no guide channel",
                           s->model->name);
        st = check_u8("guide", guide, image->h, image->w, 1, image);
    }
    return st;
}

static int mask_is_empty(const gi_tensor *mask) {
    for (int32_t y = 0; y < mask->h; y++) {
        const uint8_t *row = gi_tensor_row(mask, y);
        for (int32_t x = 0; x < mask->w; x++)
            if (row[x] > HOLE_THRESHOLD) return 0;
    }
    return 1;
}

static void copy_image(const gi_tensor *src, gi_tensor *dst) {
    if (src->data == dst->data && src->row_stride == dst->row_stride) return;
    for (int32_t y = 0; y < src->h; y++)
        memmove(gi_tensor_row(dst, y), gi_tensor_row(src, y), (size_t)src->w * src->c);
}

/* Network input: [colour in [-1,1] with holes 0, (guide edge), ones, mask]
 * (the holes' colour is pre-filled afterwards for input_fill models). */
static void build_input(const gi_model *m, const gi_tensor *image, const gi_tensor *mask,
                        const gi_tensor *guide, int32_t hn, int32_t wn, float *x_in,
                        float *mk) {
    const int32_t cin = m->layers[GI_DF_CONV1].cin, ic = image->c;
    for (int32_t y = 0; y < hn; y++) {
        int32_t sy = mirror(y, image->h);
        const uint8_t *irow = gi_tensor_row(image, sy);
        const uint8_t *mrow = gi_tensor_row(mask, sy);
        const uint8_t *grow = guide ? gi_tensor_row(guide, sy) : NULL;
        for (int32_t x = 0; x < wn; x++) {
            int32_t sx = mirror(x, image->w);
            float hole = mrow[sx] > HOLE_THRESHOLD ? 1.0f : 0.0f;
            float *px = x_in + ((size_t)y * wn + x) * cin;
            for (int ch = 0; ch < 3; ch++) {
                int32_t src = m->bgr ? 2 - ch : ch;
                float v = (float)irow[(size_t)sx * ic + src] / 127.5f - 1.0f;
                px[ch] = hole != 0.0f ? 0.0f : v;
            }
            int32_t k = 3;
            if (m->guide_channels)
                px[k++] = (grow && grow[sx] > EDGE_THRESHOLD) ? hole : 0.0f;
            px[k++] = 1.0f;
            px[k] = hole;
            mk[(size_t)y * wn + x] = hole;
        }
    }
}

/* Network output into the hole; everything else copied bit-identical. */
static void composite(const gi_model *m, const gi_tensor *image, const gi_tensor *mask,
                      const float *x2, int32_t wn, gi_tensor *out) {
    const int32_t c = image->c;
    for (int32_t y = 0; y < image->h; y++) {
        const uint8_t *irow = gi_tensor_row(image, y);
        const uint8_t *mrow = gi_tensor_row(mask, y);
        uint8_t *orow = gi_tensor_row(out, y);
        for (int32_t x = 0; x < image->w; x++) {
            if (mrow[x] <= HOLE_THRESHOLD) {
                if (orow != irow)
                    memcpy(orow + (size_t)x * c, irow + (size_t)x * c, (size_t)c);
                continue;
            }
            const float *px = x2 + ((size_t)y * wn + x) * 3;
            for (int ch = 0; ch < 3; ch++) {
                float v = floorf((px[m->bgr ? 2 - ch : ch] + 1.0f) * 127.5f + 0.5f);
                v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
                orow[(size_t)x * c + ch] = (uint8_t)v;
            }
            if (c == 4) orow[(size_t)x * c + 3] = irow[(size_t)x * c + 3];
        }
    }
}

static gi_status copy_taps(gi_debug_taps *taps, const gi_deepfill_io *io) {
    size_t n = (size_t)io->h * io->w * 3;
    taps->net_h = io->h;
    taps->net_w = io->w;
    taps->x_stage1 = gi_malloc(n * sizeof(float));
    taps->x_stage2 = gi_malloc(n * sizeof(float));
    if (!taps->x_stage1 || !taps->x_stage2) {
        free(taps->x_stage1);
        free(taps->x_stage2);
        taps->x_stage1 = taps->x_stage2 = NULL;
        return gi_fail(GI_E_NOMEM, "gi_inpaint: cannot allocate the debug taps");
    }
    memcpy(taps->x_stage1, io->x_stage1, n * sizeof(float));
    memcpy(taps->x_stage2, io->x_stage2, n * sizeof(float));
    return GI_OK;
}

gi_status gi_inpaint(gi_session *s, const gi_tensor *image, const gi_tensor *mask,
                     const gi_tensor *guide, gi_tensor *out) {
    gi_status st = check_args(s, image, mask, guide, out);
    if (st) return st;
    if (mask_is_empty(mask) && !s->taps) {
        copy_image(image, out);
        return GI_OK;
    }
    const gi_model *m = s->model;
    int32_t hn = (image->h + 7) / 8 * 8, wn = (image->w + 7) / 8 * 8;
    size_t npix = (size_t)hn * wn, f = sizeof(float);
    size_t cin = (size_t)m->layers[GI_DF_CONV1].cin;
    /* Arena: network scratch, then input, mask, both stage outputs and the
     * pre-fill's scratch. */
    size_t net = (gi_deepfill_scratch(s, hn, wn) + 63) & ~(size_t)63;
    size_t o_x = net, o_m = o_x + ((npix * cin * f + 63) & ~(size_t)63);
    size_t o_1 = o_m + ((npix * f + 63) & ~(size_t)63);
    size_t o_2 = o_1 + ((npix * 3 * f + 63) & ~(size_t)63);
    size_t o_fill = o_2 + ((npix * 3 * f + 63) & ~(size_t)63);
    size_t fill = m->input_fill == GI_FILL_PUSHPULL          ? gi_pushpull_scratch(hn, wn)
                  : m->input_fill == GI_FILL_GUIDED_PUSHPULL ? gi_guided_pushpull_scratch(hn, wn)
                                                             : 0;
    size_t total = o_fill + fill;
    /* The guided fill numbers pixels with int32. */
    if (m->input_fill == GI_FILL_GUIDED_PUSHPULL && npix > INT32_MAX)
        return gi_fail(GI_E_UNSUPPORTED, "gi_inpaint: image is %dx%d, model '%s' (guided_pushpull"
                       " pre-fill) handles at most 2^31 - 1 pixels", (int)image->w,
                       (int)image->h, m->name);
    char fn[64];
    snprintf(fn, sizeof fn, "gi_inpaint (%dx%d image)", (int)image->w, (int)image->h);
    st = gi_session_check_mem(s, fn, total);
    if (st) return st;
    st = gi_session_reserve(s, total);
    if (st) {
        gi_error_prefix("gi_inpaint");
        return st;
    }
    uint8_t *base = s->scratch;
    gi_deepfill_io io = {hn, wn, (float *)(base + o_x), (float *)(base + o_m),
                         (float *)(base + o_1), (float *)(base + o_2)};
    build_input(m, image, mask, guide, hn, wn, (float *)io.x_in, (float *)io.mask);
    if (m->input_fill == GI_FILL_PUSHPULL)
        gi_pushpull_fill((float *)io.x_in, hn, wn, (int32_t)cin, (float *)io.mask,
                         base + o_fill);
    else if (m->input_fill == GI_FILL_GUIDED_PUSHPULL) /* channel 3: the guide plane */
        gi_guided_pushpull_fill((float *)io.x_in, hn, wn, (int32_t)cin, (float *)io.mask,
                                (float *)io.x_in + 3, (int32_t)cin, base + o_fill);
    st = gi_deepfill_forward(s, &io, base);
    if (st) return st;
    if (s->taps) {
        st = copy_taps(s->taps, &io);
        if (st) return st;
    }
    composite(m, image, mask, io.x_stage2, wn, out);
    return GI_OK;
}
