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
