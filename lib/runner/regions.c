/* Region planning on a grid of GI_REGION_CELL-pixel cells:
 * 1. hole cells, and each one's chessboard distance to the nearest known
 *    cell (the hole's local half-thickness);
 * 2. 8-connected components of hole cells: a hole bounding box and its
 *    thickness r (the largest distance inside, in pixels);
 * 3. each group's window: the hole box grown by a margin of 2r (at least 32
 *    pixels of the network's scale), and a downscale factor k that brings r
 *    to at most working/8 and the window to at most working^2 network
 *    pixels;
 * 4. groups whose windows overlap are merged (union-find over the cells
 *    the windows cover) and their windows recomputed, until none overlap.
 * Time and memory grow with the number of cells, not with the hole count. */
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"

#define C GI_REGION_CELL
#define FAR INT32_MAX

typedef struct group {
    int32_t bx0, by0, bx1, by1; /* hole box in pixels, [x0, x1) */
    int32_t r;                  /* thickness in pixels */
} group;

static int32_t ceil_div(int64_t a, int64_t b) { return (int32_t)((a + b - 1) / b); }
static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Grow [*a, *b) to at least `want` inside [0, n), keeping it centred. */
static void grow_to(int32_t *a, int32_t *b, int32_t want, int32_t n) {
    if (want > n) want = n;
    int32_t need = want - (*b - *a);
    if (need <= 0) return;
    *a -= need / 2;
    *b += need - need / 2;
    if (*a < 0) *b -= *a, *a = 0;
    if (*b > n) *a -= *b - n, *b = n;
}

static void window_for(const group *g, int32_t W, int32_t H, int32_t L, gi_region *out) {
    const int32_t rnet = max32(L / 8, 4);
    int32_t k = max32(1, ceil_div(g->r, rnet));
    gi_region w = {0};
    for (;;) { /* a larger k widens the margin: repeat until the window fits */
        int32_t margin = max32(2 * g->r, 32 * k);
        w.x0 = max32(g->bx0 - margin, 0);
        w.y0 = max32(g->by0 - margin, 0);
        w.x1 = min32(g->bx1 + margin, W);
        w.y1 = min32(g->by1 + margin, H);
        int64_t net = (int64_t)ceil_div(w.x1 - w.x0, k) * ceil_div(w.y1 - w.y0, k);
        if (net <= (int64_t)L * L) break;
        int64_t full = (int64_t)(w.x1 - w.x0) * (w.y1 - w.y0), kk = k + 1;
        while (kk * kk * L * L < full) kk++; /* at least sqrt(area) / L */
        k = (int32_t)kk;
    }
    /* The network needs 16 pixels a side after shrinking. */
    while (k > 1 && (W < 16 * k || H < 16 * k)) k--;
    grow_to(&w.x0, &w.x1, 16 * k, W);
    grow_to(&w.y0, &w.y1, 16 * k, H);
    w.k = k;
    w.hx0 = g->bx0, w.hy0 = g->by0, w.hx1 = g->bx1, w.hy1 = g->by1;
    *out = w;
}

static int32_t find(int32_t *parent, int32_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* Hole cells, 0 = known; dist: chessboard distance to a known cell. */
static void hole_cells(const gi_tensor *mask, int32_t threshold, int32_t gw, int32_t gh,
                       int32_t *dist) {
    for (int32_t i = 0; i < gw * gh; i++) dist[i] = 0;
    for (int32_t y = 0; y < mask->h; y++) {
        const uint8_t *row = gi_tensor_row(mask, y);
        int32_t *drow = dist + (size_t)(y / C) * gw;
        for (int32_t x = 0; x < mask->w; x++)
            if (row[x] > threshold) drow[x / C] = FAR;
    }
    /* two-pass chamfer (chessboard); the image border is no known pixel */
    for (int32_t y = 0; y < gh; y++)
        for (int32_t x = 0; x < gw; x++) {
            int32_t *d = &dist[(size_t)y * gw + x];
            if (!*d) continue;
            for (int32_t dy = -1; dy <= 0; dy++)
                for (int32_t dx = -1; dx <= 1; dx++) {
                    if (dy == 0 && dx >= 0) break;
                    int32_t yy = y + dy, xx = x + dx;
                    if (yy < 0 || xx < 0 || xx >= gw) continue;
                    int32_t v = dist[(size_t)yy * gw + xx];
                    if (v != FAR && v + 1 < *d) *d = v + 1;
                }
        }
    for (int32_t y = gh - 1; y >= 0; y--)
        for (int32_t x = gw - 1; x >= 0; x--) {
            int32_t *d = &dist[(size_t)y * gw + x];
            if (!*d) continue;
            for (int32_t dy = 1; dy >= 0; dy--)
                for (int32_t dx = 1; dx >= -1; dx--) {
                    if (dy == 0 && dx <= 0) break;
                    int32_t yy = y + dy, xx = x + dx;
                    if (yy >= gh || xx < 0 || xx >= gw) continue;
                    int32_t v = dist[(size_t)yy * gw + xx];
                    if (v != FAR && v + 1 < *d) *d = v + 1;
                }
        }
}

/* 8-connected components of hole cells into groups; label holds the
 * component of each cell (-1 = known). Returns the count. */
static int32_t components(const int32_t *dist, int32_t gw, int32_t gh, int32_t W, int32_t H,
                          int32_t *label, int32_t *queue, group *groups) {
    int32_t n = 0;
    for (int32_t i = 0; i < gw * gh; i++) label[i] = -1;
    for (int32_t start = 0; start < gw * gh; start++) {
        if (!dist[start] || label[start] >= 0) continue;
        group g = {FAR, FAR, 0, 0, 0};
        int32_t head = 0, tail = 0;
        queue[tail++] = start;
        label[start] = n;
        while (head < tail) {
            int32_t c = queue[head++], cy = c / gw, cx = c % gw;
            int32_t d = dist[c] == FAR ? max32(gw, gh) : dist[c]; /* no known cell at all */
            g.r = max32(g.r, d * C);
            g.bx0 = min32(g.bx0, cx * C), g.by0 = min32(g.by0, cy * C);
            g.bx1 = max32(g.bx1, min32((cx + 1) * C, W));
            g.by1 = max32(g.by1, min32((cy + 1) * C, H));
            for (int32_t dy = -1; dy <= 1; dy++)
                for (int32_t dx = -1; dx <= 1; dx++) {
                    int32_t yy = cy + dy, xx = cx + dx;
                    if (yy < 0 || yy >= gh || xx < 0 || xx >= gw) continue;
                    int32_t nb = yy * gw + xx;
                    if (dist[nb] && label[nb] < 0) {
                        label[nb] = n;
                        queue[tail++] = nb;
                    }
                }
        }
        groups[n++] = g;
    }
    return n;
}

gi_status gi_plan_regions(const gi_tensor *mask, int32_t threshold, int32_t working,
                          gi_region **out, int32_t *n_out) {
    const int32_t W = mask->w, H = mask->h;
    const int32_t gw = ceil_div(W, C), gh = ceil_div(H, C);
    const size_t cells = (size_t)gw * gh;
    *out = NULL;
    *n_out = 0;
    int32_t *dist = gi_malloc(cells * sizeof(int32_t));
    int32_t *label = gi_malloc(cells * sizeof(int32_t));
    int32_t *queue = gi_malloc(cells * sizeof(int32_t));
    /* 8-connected components are at most one per 2x2 block of cells. */
    group *groups = gi_malloc((size_t)ceil_div(gw, 2) * ceil_div(gh, 2) * sizeof(group));
    gi_region *reg = NULL;
    gi_status st = GI_OK;
    if (!dist || !label || !queue || !groups) {
        st = gi_fail(GI_E_NOMEM, "gi_inpaint: cannot allocate %zu bytes to plan the regions",
                     cells * 13);
        goto done;
    }
    hole_cells(mask, threshold, gw, gh, dist);
    int32_t n = components(dist, gw, gh, W, H, label, queue, groups);
    if (n == 0) goto done;
    reg = gi_malloc((size_t)n * sizeof *reg);
    if (!reg) {
        st = gi_fail(GI_E_NOMEM, "gi_inpaint: cannot allocate the region list");
        goto done;
    }
    int32_t *parent = queue; /* the queue is free now */
    for (;;) {
        for (int32_t i = 0; i < n; i++) {
            window_for(&groups[i], W, H, working, &reg[i]);
            parent[i] = i;
        }
        /* paint every window's cells; a cell met twice joins two groups */
        for (size_t i = 0; i < cells; i++) label[i] = -1;
        for (int32_t i = 0; i < n; i++) {
            const gi_region *r = &reg[i];
            for (int32_t cy = r->y0 / C; cy < ceil_div(r->y1, C); cy++)
                for (int32_t cx = r->x0 / C; cx < ceil_div(r->x1, C); cx++) {
                    int32_t *l = &label[(size_t)cy * gw + cx];
                    if (*l < 0) {
                        *l = i;
                    } else {
                        int32_t a = find(parent, *l), b = find(parent, i);
                        if (a != b) parent[a < b ? b : a] = a < b ? a : b;
                    }
                }
        }
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++) {
            int32_t root = find(parent, i);
            if (root == i) continue;
            group *a = &groups[root], *b = &groups[i];
            a->bx0 = min32(a->bx0, b->bx0), a->by0 = min32(a->by0, b->by0);
            a->bx1 = max32(a->bx1, b->bx1), a->by1 = max32(a->by1, b->by1);
            a->r = max32(a->r, b->r);
            b->r = -1; /* merged away */
        }
        for (int32_t i = 0; i < n; i++)
            if (groups[i].r >= 0) groups[m++] = groups[i];
        if (m == n) break; /* windows are disjoint (cells may touch) */
        n = m;
    }
    *out = reg;
    *n_out = n;
    reg = NULL;
done:
    free(dist);
    free(label);
    free(queue);
    free(groups);
    free(reg);
    return st;
}
