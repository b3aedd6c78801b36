#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/error.h"

/* Mirror index for the bottom/right padding (reflect without repeating the
 * edge, like numpy 'reflect'); valid while pads are < n. */
static inline int32_t mirror(int32_t i, int32_t n) { return i < n ? i : 2 * (n - 1) - i; }

static int mask_is_empty(const gi_tensor *mask) {
    for (int32_t y = 0; y < mask->h; y++) {
        const uint8_t *row = gi_tensor_row(mask, y);
        for (int32_t x = 0; x < mask->w; x++)
            if (row[x] > GI_HOLE_THRESHOLD) return 0;
    }
    return 1;
}

static void copy_image(const gi_tensor *src, gi_tensor *dst) {
    if (src->data == dst->data && src->row_stride == dst->row_stride) return;
    for (int32_t y = 0; y < src->h; y++)
        memmove(gi_tensor_row(dst, y), gi_tensor_row(src, y), (size_t)src->w * src->c);
}

/* The picture at network size hn x wn: RGB, hole and guide-edge planes,
 * padded bottom/right by reflection. */
static void pad_planes(const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                       int32_t hn, int32_t wn, uint8_t *rgb, uint8_t *hole, uint8_t *edge) {
    const int32_t ic = image->c;
    for (int32_t y = 0; y < hn; y++) {
        int32_t sy = mirror(y, image->h);
        const uint8_t *irow = gi_tensor_row(image, sy);
        const uint8_t *mrow = gi_tensor_row(mask, sy);
        const uint8_t *grow = guide ? gi_tensor_row(guide, sy) : NULL;
        for (int32_t x = 0; x < wn; x++) {
            int32_t sx = mirror(x, image->w);
            size_t i = (size_t)y * wn + x;
            memcpy(rgb + i * 3, irow + (size_t)sx * ic, 3);
            hole[i] = mrow[sx] > GI_HOLE_THRESHOLD;
            if (grow) edge[i] = grow[sx] > GI_EDGE_THRESHOLD;
        }
    }
}

/* The family's colours into the hole; everything else copied bit-identical. */
static void composite(const gi_tensor *image, const gi_tensor *mask, const float *rgb,
                      int32_t wn, gi_tensor *out) {
    const int32_t c = image->c;
    for (int32_t y = 0; y < image->h; y++) {
        const uint8_t *irow = gi_tensor_row(image, y);
        const uint8_t *mrow = gi_tensor_row(mask, y);
        uint8_t *orow = gi_tensor_row(out, y);
        for (int32_t x = 0; x < image->w; x++) {
            if (mrow[x] <= GI_HOLE_THRESHOLD) {
                if (orow != irow)
                    memcpy(orow + (size_t)x * c, irow + (size_t)x * c, (size_t)c);
                continue;
            }
            const float *px = rgb + ((size_t)y * wn + x) * 3;
            for (int ch = 0; ch < 3; ch++) {
                float v = floorf(px[ch] + 0.5f);
                v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
                orow[(size_t)x * c + ch] = (uint8_t)v;
            }
            if (c == 4) orow[(size_t)x * c + 3] = irow[(size_t)x * c + 3];
        }
    }
}

gi_status gi_run_inpaint(const gi_model *m, gi_exec *ex, const gi_tensor *image,
                         const gi_tensor *mask, const gi_tensor *guide, gi_tensor *out) {
    if (mask_is_empty(mask) && !ex->taps) {
        copy_image(image, out);
        return GI_OK;
    }
    const int32_t mult = m->info.pad_multiple;
    int32_t hn = (image->h + mult - 1) / mult * mult, wn = (image->w + mult - 1) / mult * mult;
    size_t npix = (size_t)hn * wn, net = 0;
    char fn[64];
    snprintf(fn, sizeof fn, "gi_inpaint (%dx%d image)", (int)image->w, (int)image->h);
    gi_status st = m->family->scratch(m->state, ex, hn, wn, &net);
    if (st) {
        char what[160];
        snprintf(what, sizeof what, "%s, model '%s'", fn, m->name);
        gi_error_prefix(what);
        return st;
    }
    /* Arena: the family's scratch, then the padded planes. */
    size_t off = (net + 63) & ~(size_t)63;
    size_t o_rgb = gi_carve(&off, npix * 3), o_hole = gi_carve(&off, npix);
    size_t o_edge = gi_carve(&off, guide ? npix : 0), total = off;
    st = gi_arena_check(ex->arena, fn, total);
    if (st) return st;
    st = gi_arena_reserve(ex->arena, total);
    if (st) {
        gi_error_prefix("gi_inpaint");
        return st;
    }
    uint8_t *base = ex->arena->base;
    gi_net_io io = {hn, wn, base + o_rgb, base + o_hole, guide ? base + o_edge : NULL, NULL};
    pad_planes(image, mask, guide, hn, wn, base + o_rgb, base + o_hole,
               guide ? base + o_edge : NULL);
    st = m->family->forward(m->state, ex, &io, base);
    if (st) return st;
    composite(image, mask, io.out, wn, out);
    return GI_OK;
}
