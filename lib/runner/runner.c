#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "../common/mask_rule.h"
#include "../common/pixels.h"
#include "regions.h"

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
        memmove(gi_tensor_row(dst, y), gi_tensor_row(src, y),
                (size_t)src->w * (size_t)src->c * gi_dtype_size(src->dtype));
}

/* Padding that is a hole: colour 0, no guide line (families with
 * pad_is_hole, whose networks ignore hole pixels). */
static void hole_pixel(size_t i, uint8_t *rgb, uint8_t *hole, uint8_t *edge) {
    memset(rgb + i * 3, 0, 3);
    hole[i] = 1;
    if (edge) edge[i] = 0;
}

/* The picture at network size hn x wn: RGB, hole and guide-edge planes,
 * padded bottom/right by reflection or as hole. */
static void pad_planes(const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                       int pad_is_hole, int32_t hn, int32_t wn, uint8_t *rgb, uint8_t *hole,
                       uint8_t *edge) {
    const int32_t ic = image->c;
    for (int32_t y = 0; y < hn; y++) {
        if (pad_is_hole && y >= image->h) {
            for (int32_t x = 0; x < wn; x++) hole_pixel((size_t)y * wn + x, rgb, hole, edge);
            continue;
        }
        int32_t sy = mirror(y, image->h);
        const uint8_t *irow = gi_tensor_row(image, sy);
        const uint8_t *mrow = gi_tensor_row(mask, sy);
        const uint8_t *grow = guide ? gi_tensor_row(guide, sy) : NULL;
        for (int32_t x = 0; x < wn; x++) {
            int32_t sx = mirror(x, image->w);
            size_t i = (size_t)y * wn + x;
            if (pad_is_hole && x >= image->w) {
                hole_pixel(i, rgb, hole, edge);
                continue;
            }
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

/* The whole image through the network at full resolution: the official
 * graph, bit for bit (GI_STRATEGY_EXACT). */
static gi_status run_exact(const gi_model *m, gi_exec *ex, const gi_tensor *image,
                           const gi_tensor *mask, const gi_tensor *guide, gi_tensor *out) {
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
    gi_net_io io = {hn, wn, base + o_rgb, base + o_hole, guide ? base + o_edge : NULL, NULL,
                    NULL};
    pad_planes(image, mask, guide, m->info.pad_is_hole, hn, wn, base + o_rgb, base + o_hole,
               guide ? base + o_edge : NULL);
    st = m->family->forward(m->state, ex, &io, base);
    if (st) return st;
    composite(image, mask, io.out, wn, out);
    return GI_OK;
}

static inline int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

/* Rows [ya, yb) x columns [xa, xb) of an image or plane. */
typedef struct block {
    int32_t ya, yb, xa, xb;
} block;

/* Block (sy, sx) of the window of region r cut into k x k blocks (the last
 * ones clipped to the window). */
static block block_of(const gi_region *r, int32_t k, int32_t sy, int32_t sx) {
    int32_t ya = r->y0 + sy * k, xa = r->x0 + sx * k;
    block b = {ya, ya + k < r->y1 ? ya + k : r->y1, xa, xa + k < r->x1 ? xa + k : r->x1};
    return b;
}

/* The sums of the block's colours over its known pixels (all pixels when
 * mask is NULL); returns how many were summed. */
static uint32_t block_sum(const gi_tensor *image, const gi_tensor *mask, block b,
                          uint32_t sum[3]) {
    uint32_t n = 0;
    sum[0] = sum[1] = sum[2] = 0;
    for (int32_t y = b.ya; y < b.yb; y++) {
        const uint8_t *irow = gi_tensor_row(image, y);
        const uint8_t *mrow = mask ? gi_tensor_row(mask, y) : NULL;
        for (int32_t x = b.xa; x < b.xb; x++) {
            if (mrow && mrow[x] > GI_HOLE_THRESHOLD) continue;
            const uint8_t *px = irow + (size_t)x * image->c;
            sum[0] += px[0], sum[1] += px[1], sum[2] += px[2];
            n++;
        }
    }
    return n;
}

/* Whether any of the block's values in a one-channel plane is above thr. */
static uint8_t block_any(const gi_tensor *plane, block b, uint8_t thr) {
    for (int32_t y = b.ya; y < b.yb; y++) {
        const uint8_t *row = gi_tensor_row(plane, y);
        for (int32_t x = b.xa; x < b.xb; x++)
            if (row[x] > thr) return 1;
    }
    return 0;
}

/* The window of region r shrunk k times (k x k block means; a block is a
 * hole / an edge if any of its pixels is), padded to hn x wn by reflection
 * or as hole. */
static void shrink_planes(const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                          int pad_is_hole, const gi_region *r, int32_t hs, int32_t ws,
                          int32_t hn, int32_t wn, uint8_t *rgb, uint8_t *hole, uint8_t *edge) {
    for (int32_t sy = 0; sy < hs; sy++)
        for (int32_t sx = 0; sx < ws; sx++) {
            const block b = block_of(r, r->k, sy, sx);
            uint32_t sum[3], cnt = block_sum(image, NULL, b, sum);
            size_t i = (size_t)sy * wn + sx;
            for (int ch = 0; ch < 3; ch++) rgb[i * 3 + ch] = (uint8_t)((sum[ch] + cnt / 2) / cnt);
            hole[i] = block_any(mask, b, GI_HOLE_THRESHOLD);
            if (edge) edge[i] = block_any(guide, b, GI_EDGE_THRESHOLD);
        }
    /* reflect into the padding (pads are below the sides: sides >= 16) */
    for (int32_t y = 0; y < hn; y++) {
        int32_t sy = mirror(y, hs);
        for (int32_t x = y < hs ? ws : 0; x < wn; x++) {
            size_t d = (size_t)y * wn + x, s = (size_t)sy * wn + mirror(x, ws);
            if (pad_is_hole) {
                hole_pixel(d, rgb, hole, edge);
                continue;
            }
            memcpy(rgb + d * 3, rgb + s * 3, 3);
            hole[d] = hole[s];
            if (edge) edge[d] = edge[s];
        }
    }
}

/* The neighbours of (fy, fx) in an h x w grid, edges clamped: the cells
 * at[0..3] = (y0, x0), (y0, x1), (y1, x0), (y1, x1), and the fractions. */
typedef struct bilinear {
    size_t at[4];
    float ty, tx;
} bilinear;

static bilinear bilinear_at(int32_t h, int32_t w, float fy, float fx) {
    fy = fy < 0.0f ? 0.0f : (fy > (float)(h - 1) ? (float)(h - 1) : fy);
    fx = fx < 0.0f ? 0.0f : (fx > (float)(w - 1) ? (float)(w - 1) : fx);
    int32_t y0 = (int32_t)fy, x0 = (int32_t)fx;
    int32_t y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
    bilinear b = {{(size_t)y0 * w + x0, (size_t)y0 * w + x1, (size_t)y1 * w + x0,
                   (size_t)y1 * w + x1},
                  fy - (float)y0,
                  fx - (float)x0};
    return b;
}

/* Bilinear sample of an h x w x 3 float map at (fy, fx), edges clamped. */
static void sample(const float *map, int32_t h, int32_t w, float fy, float fx, float v[3]) {
    const bilinear n = bilinear_at(h, w, fy, fx);
    const float *a = map + n.at[0] * 3, *b = map + n.at[1] * 3;
    const float *c = map + n.at[2] * 3, *d = map + n.at[3] * 3;
    for (int ch = 0; ch < 3; ch++) {
        float top = a[ch] + (b[ch] - a[ch]) * n.tx, bot = c[ch] + (d[ch] - c[ch]) * n.tx;
        v[ch] = top + (bot - top) * n.ty;
    }
}

static uint8_t to_u8(float v) {
    v = floorf(v + 0.5f);
    return (uint8_t)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
}

/* The residual a region's fill gets back is what its window loses when
 * shrunk GI_RESIDUAL_SHRINK * k times and enlarged again: the network's
 * fill carries little detail beyond a quarter of its own resolution (at
 * k = 1 too), so the aggregation supplies that band, not only what the
 * shrinking to the network's scale removed (docs/QUALITY.md, "What was
 * tried": 1, 2 and 4 times k). */
#define GI_RESIDUAL_SHRINK 4

/* Arena of one region: the family's scratch, the padded planes, the
 * low-res composite, and for the residual aggregation (families that
 * aggregate; empty for the others) the residual and its aggregate (window
 * size, 3 floats a pixel each) and the window shrunk GI_RESIDUAL_SHRINK * k
 * times. */
enum { O_RGB, O_HOLE, O_EDGE, O_COMP, O_RES, O_AGG, O_LOW, O_EMPTY, O_END };

typedef struct region_geom {
    int32_t k, kr;       /* network shrink; the residual's shrink */
    int32_t hs, ws;      /* shrunk window */
    int32_t hr, wr;      /* window shrunk kr times */
    int32_t hn, wn;      /* network size */
    int32_t wh, wwid;    /* full-resolution window */
} region_geom;

static region_geom geometry(const gi_model *m, const gi_region *r) {
    const int32_t mult = m->info.pad_multiple;
    region_geom g;
    g.k = r->k;
    g.kr = GI_RESIDUAL_SHRINK * r->k;
    g.wh = r->y1 - r->y0;
    g.wwid = r->x1 - r->x0;
    g.hs = ceil_div(g.wh, g.k), g.ws = ceil_div(g.wwid, g.k);
    g.hr = ceil_div(g.wh, g.kr), g.wr = ceil_div(g.wwid, g.kr);
    g.hn = ceil_div(g.hs, mult) * mult, g.wn = ceil_div(g.ws, mult) * mult;
    return g;
}

static gi_status region_bytes(const gi_model *m, const gi_exec *ex, const gi_region *r,
                              size_t *bytes, size_t offs[O_END + 1]) {
    region_geom g = geometry(m, r);
    size_t net = 0, npix = (size_t)g.hn * g.wn;
    size_t f = sizeof(float), agg = m->info.aggregates != 0;
    size_t win = agg * g.wh * g.wwid, low = agg * g.hr * g.wr;
    gi_status st = m->family->scratch(m->state, ex, g.hn, g.wn, &net);
    if (st) return st;
    size_t off = (net + 63) & ~(size_t)63;
    offs[O_RGB] = gi_carve(&off, npix * 3);
    offs[O_HOLE] = gi_carve(&off, npix);
    offs[O_EDGE] = gi_carve(&off, npix);
    offs[O_COMP] = gi_carve(&off, (size_t)g.hs * g.ws * 3 * f);
    offs[O_RES] = gi_carve(&off, win * 3 * f);
    offs[O_AGG] = gi_carve(&off, win * 3 * f);
    offs[O_LOW] = gi_carve(&off, low * 3 * f);
    offs[O_EMPTY] = gi_carve(&off, low);
    offs[O_END] = off;
    *bytes = off;
    return GI_OK;
}

/* The window shrunk kr times into `low`: each block's mean over its known
 * pixels; `empty` marks blocks with none. */
static void shrink_known(const gi_tensor *image, const gi_tensor *mask, const gi_region *r,
                         const region_geom *g, float *low, uint8_t *empty) {
    for (int32_t sy = 0; sy < g->hr; sy++)
        for (int32_t sx = 0; sx < g->wr; sx++) {
            uint32_t sum[3], n = block_sum(image, mask, block_of(r, g->kr, sy, sx), sum);
            size_t i = (size_t)sy * g->wr + sx;
            for (int ch = 0; ch < 3; ch++)
                low[i * 3 + ch] = n ? (float)sum[ch] / (float)n : 0.0f;
            empty[i] = n == 0;
        }
}

/* The residual of the window: each known pixel minus the bilinear
 * enlargement of `low` over the blocks that have known pixels (weights
 * renormalised), so it is defined right up to the hole and a patch copied
 * from there carries texture, not a blank band. Hole pixels get 0. */
static void residual(const gi_tensor *image, const gi_tensor *mask, const gi_region *r,
                     const region_geom *g, const float *low, const uint8_t *empty,
                     float *res) {
    const float inv = 1.0f / (float)g->kr;
    for (int32_t y = 0; y < g->wh; y++) {
        const uint8_t *irow = gi_tensor_row(image, r->y0 + y);
        const uint8_t *mrow = gi_tensor_row(mask, r->y0 + y);
        const float fy = ((float)y + 0.5f) * inv - 0.5f;
        for (int32_t x = 0; x < g->wwid; x++) {
            float *dst = res + ((size_t)y * g->wwid + x) * 3;
            dst[0] = dst[1] = dst[2] = 0.0f;
            if (mrow[r->x0 + x] > GI_HOLE_THRESHOLD) continue;
            const bilinear n = bilinear_at(g->hr, g->wr, fy, ((float)x + 0.5f) * inv - 0.5f);
            const float ty = n.ty, tx = n.tx;
            const float ws[4] = {(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx), ty * tx};
            float v[3] = {0, 0, 0}, wsum = 0.0f;
            for (int c = 0; c < 4; c++) {
                size_t b = n.at[c];
                if (empty[b] || ws[c] == 0.0f) continue;
                for (int ch = 0; ch < 3; ch++) v[ch] += ws[c] * low[b * 3 + ch];
                wsum += ws[c];
            }
            if (wsum == 0.0f) continue; /* cannot happen: the pixel's own block is known */
            const uint8_t *px = irow + (size_t)(r->x0 + x) * image->c;
            for (int ch = 0; ch < 3; ch++) dst[ch] = (float)px[ch] - v[ch] / wsum;
        }
    }
}

/* One region through the network; its hole pixels' new colours go to
 * `pending` (3 bytes each, in raster order of the hole box): the low-res
 * composite enlarged, plus the residual the attention aggregated into the
 * hole. */
static gi_status run_region(const gi_model *m, gi_exec *ex, const gi_tensor *image,
                            const gi_tensor *mask, const gi_tensor *guide, const gi_region *r,
                            uint8_t *pending, size_t *npending) {
    const region_geom g = geometry(m, r);
    size_t total, o[O_END + 1];
    gi_status st = region_bytes(m, ex, r, &total, o);
    if (!st) st = gi_arena_reserve(ex->arena, total);
    if (st) {
        gi_error_prefix("gi_inpaint");
        return st;
    }
    uint8_t *base = ex->arena->base;
    uint8_t *rgb = base + o[O_RGB], *hole = base + o[O_HOLE];
    uint8_t *edge = guide ? base + o[O_EDGE] : NULL;
    shrink_planes(image, mask, guide, m->info.pad_is_hole, r, g.hs, g.ws, g.hn, g.wn, rgb, hole, edge);
    float *res = (float *)(base + o[O_RES]), *agg = (float *)(base + o[O_AGG]);
    gi_net_aux aux = {res, g.wh, g.wwid, g.k, agg};
    if (m->info.aggregates) {
        float *low = (float *)(base + o[O_LOW]);
        uint8_t *empty = base + o[O_EMPTY];
        shrink_known(image, mask, r, &g, low, empty);
        residual(image, mask, r, &g, low, empty, res);
    }
    gi_net_io io = {g.hn, g.wn, rgb, hole, edge, NULL, m->info.aggregates ? &aux : NULL};
    st = m->family->forward(m->state, ex, &io, base);
    if (st) return st;
    /* low-res composite: the fill in the hole, the shrunk picture elsewhere */
    float *comp = (float *)(base + o[O_COMP]);
    for (int32_t y = 0; y < g.hs; y++)
        for (int32_t x = 0; x < g.ws; x++) {
            size_t i = (size_t)y * g.wn + x, j = ((size_t)y * g.ws + x) * 3;
            for (int ch = 0; ch < 3; ch++)
                comp[j + ch] = hole[i] ? io.out[i * 3 + ch] : (float)rgb[i * 3 + ch];
        }
    const float inv = 1.0f / (float)g.k;
    for (int32_t y = r->hy0; y < r->hy1; y++) {
        const uint8_t *mrow = gi_tensor_row(mask, y);
        float fy = ((float)(y - r->y0) + 0.5f) * inv - 0.5f;
        for (int32_t x = r->hx0; x < r->hx1; x++) {
            if (mrow[x] <= GI_HOLE_THRESHOLD) continue;
            float v[3];
            sample(comp, g.hs, g.ws, fy, ((float)(x - r->x0) + 0.5f) * inv - 0.5f, v);
            const float *d =
                io.aux ? agg + ((size_t)(y - r->y0) * g.wwid + (x - r->x0)) * 3 : NULL;
            uint8_t *dst = pending + 3 * (*npending)++;
            for (int ch = 0; ch < 3; ch++) dst[ch] = to_u8(v[ch] + (d ? d[ch] : 0.0f));
        }
    }
    return GI_OK;
}

static size_t holes_in_box(const gi_tensor *mask, const gi_region *r) {
    size_t n = 0;
    for (int32_t y = r->hy0; y < r->hy1; y++) {
        const uint8_t *mrow = gi_tensor_row(mask, y);
        for (int32_t x = r->hx0; x < r->hx1; x++) n += mrow[x] > GI_HOLE_THRESHOLD;
    }
    return n;
}

/* GI_STRATEGY_REGIONS: each region at its own scale; only hole pixels
 * change. Results wait in `pending` until every region succeeded, so a
 * cancelled or failed call leaves `out` as it was. */
static gi_status run_regions(const gi_model *m, gi_exec *ex, const gi_tensor *image,
                             const gi_tensor *mask, const gi_tensor *guide, gi_tensor *out,
                             gi_run_stats *stats) {
    gi_region *reg = NULL;
    int32_t n = 0;
    gi_status st = gi_plan_regions(mask, GI_HOLE_THRESHOLD, m->working_size, &reg, &n);
    if (st) return st;
    size_t holes = 0, peak = 0, o[O_END + 1];
    double work = 0;
    for (int32_t i = 0; i < n && !st; i++) {
        size_t bytes = 0;
        holes += holes_in_box(mask, &reg[i]);
        st = region_bytes(m, ex, &reg[i], &bytes, o);
        if (bytes > peak) peak = bytes;
        work += (double)(reg[i].x1 - reg[i].x0) * (reg[i].y1 - reg[i].y0) / reg[i].k / reg[i].k;
    }
    char fn[64];
    snprintf(fn, sizeof fn, "gi_inpaint (%dx%d image)", (int)image->w, (int)image->h);
    if (!st) st = gi_arena_check(ex->arena, fn, peak + holes * 3);
    uint8_t *pending = st ? NULL : gi_malloc(holes * 3 + 1);
    if (!st && !pending) st = gi_fail(GI_E_NOMEM, "%s: cannot allocate %zu bytes", fn, holes * 3);
    size_t np = 0;
    gi_exec sub = *ex;
    double done = 0;
    for (int32_t i = 0; i < n && !st; i++) {
        double share = (double)(reg[i].x1 - reg[i].x0) * (reg[i].y1 - reg[i].y0) / reg[i].k /
                       reg[i].k / work;
        sub.span_start = ex->span_start + ex->span_len * (float)done;
        sub.span_len = ex->span_len * (float)share;
        sub.pass = i;
        st = run_region(m, &sub, image, mask, guide, &reg[i], pending, &np);
        done += share;
        if (reg[i].k > stats->max_scale) stats->max_scale = reg[i].k;
    }
    if (!st) {
        copy_image(image, out);
        size_t at = 0;
        for (int32_t i = 0; i < n; i++) {
            const gi_region *r = &reg[i];
            for (int32_t y = r->hy0; y < r->hy1; y++) {
                const uint8_t *mrow = gi_tensor_row(mask, y);
                uint8_t *orow = gi_tensor_row(out, y);
                for (int32_t x = r->hx0; x < r->hx1; x++)
                    if (mrow[x] > GI_HOLE_THRESHOLD) {
                        memcpy(orow + (size_t)x * out->c, pending + 3 * at, 3);
                        at++;
                    }
            }
        }
        stats->regions = n;
    }
    free(pending);
    free(reg);
    return st;
}

/* An 8-bit RGB(A) image with a 0/255 mask. */
static gi_status run_rgb8(const gi_model *m, gi_exec *ex, int32_t strategy,
                          const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                          gi_tensor *out, gi_run_stats *stats) {
    /* The debug taps are the whole network's outputs: exact only. */
    if (strategy == GI_STRATEGY_EXACT || ex->taps) {
        stats->regions = 1;
        return run_exact(m, ex, image, mask, guide, out);
    }
    return run_regions(m, ex, image, mask, guide, out, stats);
}

/* Grey or 16-bit: the network fills an 8-bit RGB(A) copy; its hole pixels
 * come back as luma and x257, every other pixel is copied. */
static gi_status run_converted(const gi_model *m, gi_exec *ex, int32_t strategy,
                               const gi_tensor *image, const gi_tensor *mask,
                               const gi_tensor *guide, gi_tensor *out, gi_run_stats *stats) {
    gi_tensor *rgb;
    gi_status st = gi_convert_pixels(image, GI_DTYPE_U8, image->c <= 2 ? image->c + 2 : image->c,
                                     &rgb);
    if (st) {
        gi_error_prefix("gi_inpaint");
        return st;
    }
    st = run_rgb8(m, ex, strategy, rgb, mask, guide, rgb, stats);
    if (!st) {
        copy_image(image, out);
        const size_t px = (size_t)out->c * gi_dtype_size(out->dtype);
        for (int32_t y = 0; y < out->h; y++) {
            const uint8_t *mrow = gi_tensor_row(mask, y), *frow = gi_tensor_row(rgb, y);
            uint8_t *orow = gi_tensor_row(out, y);
            for (int32_t x = 0; x < out->w; x++)
                if (mrow[x] > GI_HOLE_THRESHOLD)
                    gi_put_rgb8(orow + (size_t)x * px, out->dtype, out->c,
                                frow + (size_t)x * (size_t)rgb->c);
        }
    }
    gi_tensor_destroy(rgb);
    return st;
}

gi_status gi_run_inpaint(const gi_model *m, gi_exec *ex, int32_t strategy,
                         const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                         gi_tensor *out, gi_run_stats *stats) {
    *stats = (gi_run_stats){0, 1};
    /* The mask rule: a 0/1 mask becomes 0/255, so one threshold serves. */
    gi_tensor *binary = NULL;
    if (gi_mask_threshold(mask) == 0) {
        gi_status st = gi_mask_binarize(mask, &binary);
        if (st) {
            gi_error_prefix("gi_inpaint");
            return st;
        }
        mask = binary;
    }
    gi_status st = GI_OK;
    if (mask_is_empty(mask) && !ex->taps)
        copy_image(image, out);
    else if (image->dtype != GI_DTYPE_U8 || image->c <= 2)
        st = run_converted(m, ex, strategy, image, mask, guide, out, stats);
    else
        st = run_rgb8(m, ex, strategy, image, mask, guide, out, stats);
    gi_tensor_destroy(binary);
    return st;
}
