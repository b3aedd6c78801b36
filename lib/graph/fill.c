/* Push-pull hole fill (fill.h). Levels are built down to the first one
 * without holes (every coarser level would only fill pixels that are not
 * read), then filled from the coarsest up. */
#include "fill.h"

#include <string.h>

#define MAX_LEVELS 40

typedef struct {
    int32_t h, w, stride;
    float *c;       /* colour, `stride` floats per pixel */
    uint8_t *valid; /* NULL at level 0 (there: hole[] == 0) */
} level;

static size_t level_bytes(int32_t h, int32_t w) {
    return (((size_t)h * w * 3 * sizeof(float)) + (size_t)h * w + 63) & ~(size_t)63;
}

size_t gi_pushpull_scratch(int32_t h, int32_t w) {
    size_t total = 0;
    while (h > 1 || w > 1) {
        h = (h + 1) / 2;
        w = (w + 1) / 2;
        total += level_bytes(h, w);
    }
    return total + 64;
}

static int is_valid(const level *L, const float *hole, int32_t y, int32_t x) {
    size_t i = (size_t)y * L->w + x;
    return L->valid ? L->valid[i] : hole[i] == 0.0f;
}

/* Level `dst` (ceil halves of `src`): mean of the valid pixels per 2x2 block.
 * Returns 1 if dst still has a pixel without any valid source. */
static int push(const level *src, const float *hole, level *dst) {
    int any_hole = 0;
    for (int32_t y = 0; y < dst->h; y++)
        for (int32_t x = 0; x < dst->w; x++) {
            float s[3] = {0, 0, 0};
            int n = 0;
            for (int32_t dy = 0; dy < 2; dy++)
                for (int32_t dx = 0; dx < 2; dx++) {
                    int32_t sy = 2 * y + dy, sx = 2 * x + dx;
                    if (sy >= src->h || sx >= src->w || !is_valid(src, hole, sy, sx))
                        continue;
                    const float *p = src->c + ((size_t)sy * src->w + sx) * src->stride;
                    for (int ch = 0; ch < 3; ch++) s[ch] += p[ch];
                    n++;
                }
            size_t i = (size_t)y * dst->w + x;
            for (int ch = 0; ch < 3; ch++) dst->c[i * 3 + ch] = n ? s[ch] / (float)n : 0.0f;
            dst->valid[i] = n > 0;
            any_hole |= n == 0;
        }
    return any_hole;
}

/* Source row/column of a 2x bilinear upsampling (half-pixel, clamped). */
static void src_index(int32_t o, int32_t n, int32_t *i0, int32_t *i1, float *t) {
    float s = (float)o * 0.5f - 0.25f;
    if (s < 0.0f) s = 0.0f;
    *i0 = (int32_t)s;
    *i1 = *i0 + 1 < n ? *i0 + 1 : n - 1;
    *t = s - (float)*i0;
}

/* Hole pixels of `fine` from the (filled) coarse level. */
static void pull(level *fine, const float *hole, const level *coarse) {
    for (int32_t y = 0; y < fine->h; y++) {
        int32_t y0, y1;
        float ty;
        src_index(y, coarse->h, &y0, &y1, &ty);
        for (int32_t x = 0; x < fine->w; x++) {
            if (is_valid(fine, hole, y, x)) continue;
            int32_t x0, x1;
            float tx;
            src_index(x, coarse->w, &x0, &x1, &tx);
            const float *c = coarse->c;
            int32_t cw = coarse->w;
            float *p = fine->c + ((size_t)y * fine->w + x) * fine->stride;
            for (int ch = 0; ch < 3; ch++) {
                float top = c[((size_t)y0 * cw + x0) * 3 + ch] * (1.0f - tx) +
                            c[((size_t)y0 * cw + x1) * 3 + ch] * tx;
                float bot = c[((size_t)y1 * cw + x0) * 3 + ch] * (1.0f - tx) +
                            c[((size_t)y1 * cw + x1) * 3 + ch] * tx;
                p[ch] = top * (1.0f - ty) + bot * ty;
            }
        }
    }
}

void gi_pushpull_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                      void *scratch) {
    level lv[MAX_LEVELS];
    lv[0] = (level){h, w, stride, x, NULL};
    uint8_t *p = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    int n = 1, holes = 0;
    for (size_t i = 0; i < (size_t)h * w && !holes; i++) holes = hole[i] != 0.0f;
    while (holes && (lv[n - 1].h > 1 || lv[n - 1].w > 1)) {
        level *d = &lv[n];
        d->h = (lv[n - 1].h + 1) / 2;
        d->w = (lv[n - 1].w + 1) / 2;
        d->stride = 3;
        d->c = (float *)p;
        d->valid = p + (size_t)d->h * d->w * 3 * sizeof(float);
        p += level_bytes(d->h, d->w);
        holes = push(&lv[n - 1], hole, d);
        n++;
    }
    /* A coarsest 1x1 level with no valid pixel stays 0 (push wrote 0). */
    for (int l = n - 2; l >= 0; l--) pull(&lv[l], hole, &lv[l + 1]);
}

/* ---- guided push-pull -------------------------------------------------- */

#define GUIDE_RING 2 /* px of known pixels around a region that it is filled from */

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t gi_guided_pushpull_scratch(int32_t h, int32_t w) {
    size_t n = (size_t)h * w;
    /* pyramid (big enough for any window), labels, BFS queue, window colour,
     * window hole, G */
    return 64 + align64(gi_pushpull_scratch(h, w)) + 2 * align64(n * sizeof(int32_t)) +
           align64(n * 3 * sizeof(float)) + 2 * align64(n * sizeof(float));
}

typedef struct {
    float *x;
    int32_t h, w, stride;
    const float *hole;
    float *win, *win_hole; /* window colour (3 floats per pixel) and hole */
    void *pyramid;
} guided;

/* Region `pix[0..n)` with bounding box rows y0..y1, columns x0..x1: fill it
 * from the known pixels around it only, so colour from beyond a guide line
 * (which lies further than the ring) does not reach it. */
static void fill_region(const guided *g, const int32_t *pix, size_t n, int32_t y0, int32_t y1,
                        int32_t x0, int32_t x1) {
    int32_t by0 = y0 - GUIDE_RING > 0 ? y0 - GUIDE_RING : 0;
    int32_t bx0 = x0 - GUIDE_RING > 0 ? x0 - GUIDE_RING : 0;
    int32_t by1 = y1 + GUIDE_RING < g->h ? y1 + GUIDE_RING : g->h - 1;
    int32_t bx1 = x1 + GUIDE_RING < g->w ? x1 + GUIDE_RING : g->w - 1;
    int32_t bh = by1 - by0 + 1, bw = bx1 - bx0 + 1;
    for (size_t i = 0; i < (size_t)bh * bw; i++) g->win_hole[i] = 1.0f;
    /* The ring: C dilated by a 5x5 square, restricted to known pixels. */
    int ring = 0;
    for (size_t k = 0; k < n; k++) {
        int32_t py = pix[k] / g->w, px = pix[k] % g->w;
        for (int32_t y = py - GUIDE_RING; y <= py + GUIDE_RING; y++) {
            if (y < by0 || y > by1) continue;
            for (int32_t x = px - GUIDE_RING; x <= px + GUIDE_RING; x++) {
                if (x < bx0 || x > bx1 || g->hole[(size_t)y * g->w + x] != 0.0f) continue;
                g->win_hole[(size_t)(y - by0) * bw + (x - bx0)] = 0.0f;
                ring = 1;
            }
        }
    }
    if (!ring) return; /* nothing to fill from: keep the plain fill */
    for (int32_t y = 0; y < bh; y++)
        for (int32_t x = 0; x < bw; x++) {
            const float *s = g->x + ((size_t)(by0 + y) * g->w + bx0 + x) * g->stride;
            float *d = g->win + ((size_t)y * bw + x) * 3;
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
    gi_pushpull_fill(g->win, bh, bw, 3, g->win_hole, g->pyramid);
    for (size_t k = 0; k < n; k++) {
        int32_t py = pix[k] / g->w, px = pix[k] % g->w;
        const float *s = g->win + ((size_t)(py - by0) * bw + (px - bx0)) * 3;
        float *d = g->x + (size_t)pix[k] * g->stride;
        d[0] = s[0], d[1] = s[1], d[2] = s[2];
    }
}

void gi_guided_pushpull_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                             const float *edge, int32_t edge_stride, void *scratch) {
    size_t n = (size_t)h * w;
    uint8_t *p = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    guided g = {x, h, w, stride, hole, NULL, NULL, p};
    p += align64(gi_pushpull_scratch(h, w));
    int32_t *label = (int32_t *)p;
    p += align64(n * sizeof(int32_t));
    int32_t *queue = (int32_t *)p;
    p += align64(n * sizeof(int32_t));
    g.win = (float *)p;
    p += align64(n * 3 * sizeof(float));
    g.win_hole = (float *)p;
    p += align64(n * sizeof(float));
    float *guide_hole = (float *)p;

    gi_pushpull_fill(x, h, w, stride, hole, g.pyramid);
    /* label: -1 = hole pixel off the guide not yet reached, 0 = known or
     * guide, > 0 = its region's number */
    size_t nguide = 0;
    for (size_t i = 0; i < n; i++) {
        int in_hole = hole[i] != 0.0f;
        int on_guide = in_hole && edge[i * (size_t)edge_stride] > 0.5f;
        guide_hole[i] = on_guide ? 1.0f : 0.0f;
        label[i] = in_hole && !on_guide ? -1 : 0;
        nguide += (size_t)on_guide;
    }
    if (!nguide) return; /* no guide in the hole: plain push-pull */

    int32_t regions = 0;
    for (size_t seed = 0; seed < n; seed++) {
        if (label[seed] != -1) continue;
        /* BFS; afterwards queue[0..len) holds exactly the region's pixels. */
        int32_t id = ++regions;
        size_t len = 0;
        int32_t y0 = h, y1 = -1, x0 = w, x1 = -1;
        label[seed] = id;
        queue[len++] = (int32_t)seed;
        for (size_t q = 0; q < len; q++) {
            int32_t i = queue[q], py = i / w, px = i % w;
            y0 = py < y0 ? py : y0, y1 = py > y1 ? py : y1;
            x0 = px < x0 ? px : x0, x1 = px > x1 ? px : x1;
            int32_t nb[4] = {py > 0 ? i - w : -1, py < h - 1 ? i + w : -1,
                             px > 0 ? i - 1 : -1, px < w - 1 ? i + 1 : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && label[nb[k]] == -1) {
                    label[nb[k]] = id;
                    queue[len++] = nb[k];
                }
        }
        fill_region(&g, queue, len, y0, y1, x0, x1);
    }
    /* The guide pixels last, from everything around them (both sides). */
    gi_pushpull_fill(x, h, w, stride, guide_hole, g.pyramid);
}
