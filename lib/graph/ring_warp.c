/* Ring-warp pre-fill (fill.h). The definition, step by step, is that of
 * tools/train/gitrain/nets.py ring_warp_fill, which is the reference: every
 * sum here runs in the same order and rounds to float where it does, so the
 * two agree to the last bit up to push-pull's own float arithmetic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fill.h"

/* px along a loop: how far an anchor looks for the outline its line stands
 * for, how near an outline counts as the line's own, the step's half span */
#define WARP_REACH 48
#define WARP_NEAR 3
#define WARP_STEP 4
/* share of the window's largest step an outline must reach: the line's own, another */
#define WARP_OWN 0.3
#define WARP_PEAK 0.8
#define SMOOTH_HALF 6  /* binomial(12) weights along the loop */
static const double smooth[2 * SMOOTH_HALF + 1] = {1,   12,  66,  220, 495, 792, 924,
                                                   792, 495, 220, 66,  12,  1};

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* A loop holds at most 2 h w + 8 entries (the reference's bound too). */
static size_t loop_cap(size_t n) { return 2 * n + 8; }

/* Scratch: the push-pull pyramid first, as gi_guided_pushpull_fill lays it
 * out, which runs first on the same scratch; then the arrays below, which
 * overwrite its other buffers once it is done. */
static size_t own_bytes(size_t n) {
    size_t L = loop_cap(n);
    return 2 * align64(n * sizeof(int32_t)) +                       /* label, queue */
           align64(n * 3 * sizeof(float)) + align64(n) +             /* seed colour, flag */
           align64(n * 3 * sizeof(float)) + align64(n * sizeof(float)) + /* window */
           4 * align64(L * sizeof(int32_t)) +                        /* loop, warp, anchors */
           align64(L * 3 * sizeof(float)) + align64(L * sizeof(float)) + 2 * align64(L);
}

size_t gi_ring_warp_scratch(int32_t h, int32_t w) {
    size_t n = (size_t)h * w, guided = gi_guided_pushpull_scratch(h, w);
    size_t own = 64 + align64(gi_pushpull_scratch(h, w)) + own_bytes(n);
    return guided > own ? guided : own;
}

typedef struct {
    const float *x; /* known pixels: read only */
    int32_t h, w, stride;
    const float *hole, *edge;
    int32_t edge_stride;
    int32_t *label, *queue;
    float *seed_c;
    uint8_t *seed;
    float *win, *win_hole; /* region window: colour (3 a pixel), hole */
    void *pyramid;
    int32_t *loop, *warp, *ap, *ao; /* loop pixels; the entry each takes from; anchors */
    float *col, *step;
    uint8_t *has, *touch;
} ring;

static int is_hole(const ring *r, size_t i) { return r->hole[i] != 0.0f; }

static int on_guide(const ring *r, size_t i) {
    return is_hole(r, i) && r->edge[i * (size_t)r->edge_stride] > 0.5f;
}

/* The 8 neighbours (dy, dx), clockwise on screen from the west. */
static const int32_t moore[8][2] = {{0, -1}, {-1, -1}, {-1, 0}, {-1, 1},
                                    {0, 1},  {1, 1},   {1, 0},  {1, -1}};

static int32_t moore_index(int32_t dy, int32_t dx) {
    for (int32_t k = 0; k < 8; k++)
        if (moore[k][0] == dy && moore[k][1] == dx) return k;
    return 0; /* not reached: always a neighbour's offset */
}

static size_t wrap(int64_t i, size_t n) {
    int64_t m = i % (int64_t)n;
    return (size_t)(m < 0 ? m + (int64_t)n : m);
}

/* Step 1: the outer border of component `id` (label[] == id), Moore tracing
 * clockwise from its raster-first pixel, entered from the west, until it
 * would leave that pixel for the second one again. Returns its length. */
static size_t trace(const ring *r, int32_t id, int32_t start) {
    size_t cap = loop_cap((size_t)r->h * r->w), len = 0;
    int32_t y = start / r->w, x = start % r->w, back = 0, second = -1;
    r->loop[len++] = start;
    for (size_t it = 0; it + 1 < cap; it++) {
        int32_t d = -1, ny = 0, nx = 0;
        for (int32_t k = 1; k <= 8 && d < 0; k++) {
            int32_t dd = (back + k) % 8;
            ny = y + moore[dd][0], nx = x + moore[dd][1];
            if (ny >= 0 && ny < r->h && nx >= 0 && nx < r->w &&
                r->label[(size_t)ny * r->w + nx] == id)
                d = dd;
        }
        if (d < 0) break; /* a single pixel */
        int32_t next = ny * r->w + nx;
        if (second < 0) {
            second = next;
        } else if (y * r->w + x == start && next == second) {
            len--; /* start, stored on arrival, is loop[0] */
            break;
        }
        int32_t by = y + moore[(d + 7) % 8][0], bx = x + moore[(d + 7) % 8][1];
        back = moore_index(by - ny, bx - nx);
        y = ny, x = nx;
        r->loop[len++] = next;
    }
    return len;
}

/* Step 1's colours: the mean of the known pixels in each loop pixel's 7 x 7
 * neighbourhood (summed in raster order of the offsets), and whether any;
 * and whether the pixel touches the guide (3 x 3). */
static void colours(const ring *r, size_t n) {
    for (size_t t = 0; t < n; t++) {
        int32_t py = r->loop[t] / r->w, px = r->loop[t] % r->w;
        double acc[3] = {0, 0, 0}, cnt = 0;
        int touch = 0;
        for (int32_t dy = -3; dy <= 3; dy++)
            for (int32_t dx = -3; dx <= 3; dx++) {
                int32_t yy = py + dy, xx = px + dx;
                if (yy < 0 || yy >= r->h || xx < 0 || xx >= r->w) continue;
                size_t i = (size_t)yy * r->w + xx;
                if (dy >= -1 && dy <= 1 && dx >= -1 && dx <= 1) touch |= on_guide(r, i);
                if (is_hole(r, i)) continue;
                const float *s = r->x + i * r->stride;
                for (int c = 0; c < 3; c++) acc[c] += (double)s[c];
                cnt += 1;
            }
        double div = cnt > 1 ? cnt : 1;
        for (int c = 0; c < 3; c++) r->col[t * 3 + c] = (float)(acc[c] / div);
        r->has[t] = cnt > 0;
        r->touch[t] = (uint8_t)touch;
    }
}

/* The colour at loop entry t smoothed along the loop (binomial weights over
 * the entries that have one); returns 0 if none has. */
static int smoothed(const ring *r, size_t n, size_t t, double out[3]) {
    double acc[3] = {0, 0, 0}, ws = 0;
    for (int k = -SMOOTH_HALF; k <= SMOOTH_HALF; k++) {
        size_t j = wrap((int64_t)t + k, n);
        double wk = smooth[k + SMOOTH_HALF] * (double)r->has[j];
        for (int c = 0; c < 3; c++) acc[c] += (double)r->col[j * 3 + c] * wk;
        ws += wk;
    }
    double div = ws > 1e-12 ? ws : 1e-12;
    for (int c = 0; c < 3; c++) out[c] = acc[c] / div;
    return ws > 0;
}

/* Step 2: the colour step at each loop entry. */
static void steps(const ring *r, size_t n) {
    for (size_t t = 0; t < n; t++) {
        double a[3], b[3], s = 0;
        int oka = smoothed(r, n, wrap((int64_t)t + WARP_STEP, n), a);
        int okb = smoothed(r, n, wrap((int64_t)t - WARP_STEP, n), b);
        if (oka && okb) {
            double d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
            s = sqrt(d0 * d0 + d1 * d1 + d2 * d2);
        }
        r->step[t] = (float)s;
    }
}

/* Step 3's q for the anchor at ap[a], as an offset: among the local maxima
 * of the step within the window, the nearest within WARP_NEAR that reaches
 * WARP_OWN of the window's largest (the line's own outline), else the
 * nearest that reaches WARP_PEAK of it and is not within WARP_NEAR of
 * another anchor's p (that line's outline); none: 0. */
static int32_t anchor_offset(const ring *r, size_t n, size_t na, size_t a) {
    size_t p = (size_t)r->ap[a];
    double mx = -INFINITY;
    for (int32_t o = -WARP_REACH; o <= WARP_REACH; o++) {
        double v = r->step[wrap((int64_t)p + o, n)];
        mx = v > mx ? v : mx;
    }
    if (!(mx > 0)) return 0;
    int32_t own = WARP_REACH + 1, other = WARP_REACH + 1;
    for (int32_t o = -WARP_REACH; o <= WARP_REACH; o++) {
        size_t q = wrap((int64_t)p + o, n);
        double v = r->step[q];
        double lo = o > -WARP_REACH ? r->step[wrap((int64_t)p + o - 1, n)] : -INFINITY;
        double hi = o < WARP_REACH ? r->step[wrap((int64_t)p + o + 1, n)] : -INFINITY;
        if (v < lo || v < hi) continue;
        if (abs(o) <= WARP_NEAR && v >= WARP_OWN * mx && abs(o) < abs(own)) own = o;
        if (v < WARP_PEAK * mx || abs(o) >= abs(other)) continue;
        int taken = 0;
        for (size_t b = 0; b < na && !taken; b++) {
            size_t d = wrap((int64_t)q - r->ap[b], n);
            taken = b != a && (d < n - d ? d : n - d) <= WARP_NEAR;
        }
        if (!taken) other = o;
    }
    return own <= WARP_REACH ? own : other <= WARP_REACH ? other : 0;
}

/* Steps 3 and 4: anchors, then the entry each loop entry takes from. */
static void warp(const ring *r, size_t n) {
    size_t na = 0, ntouch = 0;
    for (size_t t = 0; t < n; t++) r->warp[t] = (int32_t)t, ntouch += r->touch[t];
    if (ntouch == 0 || ntouch == n) return;
    for (size_t s0 = 0; s0 < n; s0++) { /* each run of touching entries */
        if (!r->touch[s0] || r->touch[wrap((int64_t)s0 - 1, n)]) continue;
        size_t len = 0;
        while (r->touch[wrap((int64_t)(s0 + len), n)]) len++;
        r->ap[na++] = (int32_t)wrap((int64_t)(s0 + len / 2), n);
    }
    for (size_t a = 0; a < na; a++) r->ao[a] = anchor_offset(r, n, na, a);
    for (size_t i = 1; i < na; i++) /* in order of p (insertion sort) */
        for (size_t j = i; j > 0 && r->ap[j - 1] > r->ap[j]; j--) {
            int32_t tp = r->ap[j], to = r->ao[j];
            r->ap[j] = r->ap[j - 1], r->ao[j] = r->ao[j - 1];
            r->ap[j - 1] = tp, r->ao[j - 1] = to;
        }
    for (size_t i = 1; i <= na; i++) { /* q's order along the loop must follow p's */
        size_t a = i - 1, b = i % na;
        int64_t gap = (int64_t)wrap((int64_t)r->ap[b] - r->ap[a], n);
        if (gap == 0) gap = (int64_t)n;
        if (gap + r->ao[b] - r->ao[a] <= 0) r->ao[b] = 0;
    }
    /* each anchor's offset, fading linearly to 0 at WARP_REACH along the loop */
    for (size_t t = 0; t < n; t++) {
        double shift = 0.0;
        for (size_t a = 0; a < na; a++) {
            size_t d = t > (size_t)r->ap[a] ? t - (size_t)r->ap[a] : (size_t)r->ap[a] - t;
            d = d < n - d ? d : n - d;
            double fade = 1.0 - (double)d / WARP_REACH;
            shift += r->ao[a] * (fade > 0.0 ? fade : 0.0);
        }
        r->warp[t] = (int32_t)wrap((int64_t)nearbyint((double)t + shift), n);
    }
}

/* seed[] flags of a loop pixel: it has a colour (from its last visit), and
 * some visit took another pixel's colour */
#define SEED_COLOUR 1
#define SEED_MOVED 2

/* Steps 1 to 4 for the hole component `id`: the warped colours of its loop
 * become the seeds of the loop's pixels (the last visit of a pixel wins). */
static void seed_component(const ring *r, int32_t id, int32_t first) {
    size_t n = trace(r, id, first);
    colours(r, n);
    steps(r, n);
    warp(r, n);
    for (size_t t = 0; t < n; t++) {
        size_t i = (size_t)r->loop[t], from = (size_t)r->warp[t];
        r->seed[i] = (uint8_t)((r->seed[i] & SEED_MOVED) | (r->has[from] ? SEED_COLOUR : 0));
        if (from != t) r->seed[i] |= SEED_MOVED;
        memcpy(r->seed_c + i * 3, r->col + from * 3, 3 * sizeof(float));
    }
}

/* Step 5 for one region (queue[0..len), bounding box y0..y1, x0..x1): only
 * if the warp moved its border; else the guided fill stays. */
static void fill_region(const ring *r, float *x, size_t len, int32_t y0, int32_t y1,
                        int32_t x0, int32_t x1) {
    int32_t bh = y1 - y0 + 1, bw = x1 - x0 + 1;
    int any = 0, moved = 0;
    for (size_t k = 0; k < len; k++) moved |= r->seed[r->queue[k]] & SEED_MOVED;
    if (!moved) return;
    for (size_t i = 0; i < (size_t)bh * bw; i++) r->win_hole[i] = 1.0f;
    for (size_t k = 0; k < len; k++) {
        size_t i = (size_t)r->queue[k];
        int32_t py = (int32_t)(i / r->w), px = (int32_t)(i % r->w);
        size_t wi = (size_t)(py - y0) * bw + (px - x0);
        if (!(r->seed[i] & SEED_COLOUR) || on_guide(r, i)) continue;
        memcpy(r->win + wi * 3, r->seed_c + i * 3, 3 * sizeof(float));
        r->win_hole[wi] = 0.0f;
        any = 1;
    }
    if (!any) return; /* no border pixel with a colour: the guided fill stays */
    gi_pushpull_fill(r->win, bh, bw, 3, r->win_hole, r->pyramid);
    for (size_t k = 0; k < len; k++) {
        size_t i = (size_t)r->queue[k];
        int32_t py = (int32_t)(i / r->w), px = (int32_t)(i % r->w);
        const float *s = r->win + ((size_t)(py - y0) * bw + (px - x0)) * 3;
        float *d = x + i * r->stride;
        d[0] = s[0], d[1] = s[1], d[2] = s[2];
    }
}

/* Labels the components of the pixels whose label is -1 (8- or
 * 4-connected) in raster order of their first pixel; for each, queue[0..len)
 * holds its pixels, queue[0] its first. `x` NULL: seed each (hole
 * components), else fill each (regions). */
static void components(const ring *r, float *x, int conn8) {
    int32_t id = 0;
    for (size_t first = 0; first < (size_t)r->h * r->w; first++) {
        if (r->label[first] != -1) continue;
        size_t len = 0;
        int32_t y0 = r->h, y1 = -1, x0 = r->w, x1 = -1;
        r->label[first] = ++id;
        r->queue[len++] = (int32_t)first;
        for (size_t q = 0; q < len; q++) {
            int32_t i = r->queue[q], py = i / r->w, px = i % r->w;
            y0 = py < y0 ? py : y0, y1 = py > y1 ? py : y1;
            x0 = px < x0 ? px : x0, x1 = px > x1 ? px : x1;
            for (int32_t k = 0; k < 8; k++) {
                if (!conn8 && (k & 1)) continue; /* odd: the diagonals */
                int32_t ny = py + moore[k][0], nx = px + moore[k][1];
                if (ny < 0 || ny >= r->h || nx < 0 || nx >= r->w) continue;
                int32_t j = ny * r->w + nx;
                if (r->label[j] == -1) r->label[j] = id, r->queue[len++] = j;
            }
        }
        if (x)
            fill_region(r, x, len, y0, y1, x0, x1);
        else
            seed_component(r, id, (int32_t)first);
    }
}

void gi_ring_warp_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                       const float *edge, int32_t edge_stride, void *scratch) {
    size_t n = (size_t)h * w, L = loop_cap(n), nguide = 0;
    gi_guided_pushpull_fill(x, h, w, stride, hole, edge, edge_stride, scratch);
    for (size_t i = 0; i < n; i++)
        nguide += hole[i] != 0.0f && edge[i * (size_t)edge_stride] > 0.5f;
    if (!nguide) return; /* no guide in the hole: plain push-pull, as the guided fill */
    uint8_t *p = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    ring r = {.x = x, .h = h, .w = w, .stride = stride, .hole = hole, .edge = edge,
              .edge_stride = edge_stride};
    r.pyramid = p, p += align64(gi_pushpull_scratch(h, w));
    r.label = (int32_t *)p, p += align64(n * sizeof(int32_t));
    r.queue = (int32_t *)p, p += align64(n * sizeof(int32_t));
    r.seed_c = (float *)p, p += align64(n * 3 * sizeof(float));
    r.seed = p, p += align64(n);
    r.win = (float *)p, p += align64(n * 3 * sizeof(float));
    r.win_hole = (float *)p, p += align64(n * sizeof(float));
    r.loop = (int32_t *)p, p += align64(L * sizeof(int32_t));
    r.warp = (int32_t *)p, p += align64(L * sizeof(int32_t));
    r.ap = (int32_t *)p, p += align64(L * sizeof(int32_t));
    r.ao = (int32_t *)p, p += align64(L * sizeof(int32_t));
    r.col = (float *)p, p += align64(L * 3 * sizeof(float));
    r.step = (float *)p, p += align64(L * sizeof(float));
    r.has = p, p += align64(L);
    r.touch = p;

    memset(r.seed, 0, n);
    for (size_t i = 0; i < n; i++) r.label[i] = is_hole(&r, i) ? -1 : 0;
    components(&r, NULL, 1); /* steps 1-4: seeds on each hole component's border */
    for (size_t i = 0; i < n; i++) r.label[i] = is_hole(&r, i) && !on_guide(&r, i) ? -1 : 0;
    components(&r, x, 0); /* step 5: each region from its seeds */
    /* step 6: the guide pixels from everything around them (win_hole: n floats) */
    for (size_t i = 0; i < n; i++) r.win_hole[i] = on_guide(&r, i) ? 1.0f : 0.0f;
    gi_pushpull_fill(x, h, w, stride, r.win_hole, r.pyramid);
}
