/* The region planner of GI_STRATEGY_REGIONS (lib/runner/regions.c): holes
 * grouped into regions with disjoint windows that contain their holes,
 * windows clipped at the borders, scales that bring thick holes to the
 * working size, and bounded time for thousands of tiny holes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/check.h"
#include "runner/regions.h"

typedef struct {
    gi_tensor *t;
    uint8_t *mem;
    int h, w;
} mask_t;

static mask_t new_mask(int h, int w) {
    mask_t m = {NULL, calloc((size_t)h * w, 1), h, w};
    gi_tensor_wrap(GI_DTYPE_U8, h, w, 1, m.mem, (size_t)w, &m.t);
    return m;
}

static void box(mask_t *m, int y0, int x0, int hh, int ww) {
    for (int y = y0; y < y0 + hh; y++)
        for (int x = x0; x < x0 + ww; x++) m->mem[(size_t)y * m->w + x] = 255;
}

static void free_mask(mask_t *m) {
    gi_tensor_destroy(m->t);
    free(m->mem);
}

static int overlap(const gi_region *a, const gi_region *b) {
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Every region is inside the image with its hole box inside its window,
 * windows are pairwise disjoint, every hole pixel is in some hole box, and
 * the network sees at most working^2 pixels a region. */
static void check_plan(const char *what, const mask_t *m, const gi_region *r, int n,
                       int working) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        const gi_region *a = &r[i];
        ok &= a->x0 >= 0 && a->y0 >= 0 && a->x1 <= m->w && a->y1 <= m->h && a->k >= 1;
        ok &= a->hx0 >= a->x0 && a->hy0 >= a->y0 && a->hx1 <= a->x1 && a->hy1 <= a->y1;
        long net = (long)((a->x1 - a->x0 + a->k - 1) / a->k) * ((a->y1 - a->y0 + a->k - 1) / a->k);
        CHECK(net <= (long)working * working || a->k > 1000, "%s: region %d has %ld network pixels",
              what, i, net);
        CHECK((a->x1 - a->x0) >= 16 * a->k && (a->y1 - a->y0) >= 16 * a->k,
              "%s: region %d is smaller than 16 network pixels", what, i);
        for (int j = i + 1; j < n; j++) ok &= !overlap(a, &r[j]);
    }
    CHECK(ok, "%s: regions outside the image, holes outside windows, or windows overlap", what);
    int covered = 1;
    for (int y = 0; y < m->h && covered; y++)
        for (int x = 0; x < m->w; x++) {
            if (m->mem[(size_t)y * m->w + x] <= 127) continue;
            int in = 0;
            for (int i = 0; i < n && !in; i++)
                in = x >= r[i].hx0 && x < r[i].hx1 && y >= r[i].hy0 && y < r[i].hy1;
            if (!in) covered = 0;
        }
    CHECK(covered, "%s: a hole pixel is in no region", what);
}

static int plan(const char *what, mask_t *m, int working, gi_region **r) {
    int32_t n = -1;
    gi_status st = gi_plan_regions(m->t, 127, working, r, &n);
    CHECK(st == GI_OK, "%s: %s", what, gi_last_error());
    check_plan(what, m, *r, n, working);
    return n;
}

int main(void) {
    gi_region *r = NULL;

    mask_t m = new_mask(600, 900);
    int n = plan("empty", &m, 256, &r);
    CHECK(n == 0 && r == NULL, "empty mask: %d regions", n);

    box(&m, 100, 100, 30, 30);
    box(&m, 450, 800, 20, 40);
    n = plan("two far holes", &m, 256, &r);
    CHECK(n == 2, "two far holes: %d regions", n);
    CHECK(n == 2 && r[0].k == 1 && r[1].k == 1, "small holes keep full resolution");
    free(r);

    box(&m, 100, 150, 30, 30); /* 20 px from the first: one context */
    n = plan("two near holes", &m, 256, &r);
    CHECK(n == 2, "near holes merge, the far one stays apart: %d regions", n);
    free(r);
    free_mask(&m);

    /* a hole at the corner: the window is clipped, the hole stays inside */
    m = new_mask(300, 400);
    box(&m, 0, 370, 40, 30);
    n = plan("corner", &m, 256, &r);
    CHECK(n == 1 && r[0].x1 == 400 && r[0].y0 == 0, "corner window [%d,%d)x[%d,%d)",
          n ? r[0].x0 : -1, n ? r[0].x1 : -1, n ? r[0].y0 : -1, n ? r[0].y1 : -1);
    free(r);
    free_mask(&m);

    /* an object-sized hole in a big photo: shrunk to the working size */
    m = new_mask(3000, 4000);
    box(&m, 1200, 1800, 300, 350);
    n = plan("object", &m, 256, &r);
    CHECK(n == 1 && r[0].k >= 4, "object hole: k = %d", n ? r[0].k : -1);
    /* a second one far away: its own region at its own scale */
    box(&m, 2500, 200, 300, 350);
    free(r);
    n = plan("two objects", &m, 256, &r);
    CHECK(n == 2, "two objects: %d regions", n);
    free(r);
    free_mask(&m);

    /* thin strokes across a photo: full resolution where they are thin */
    m = new_mask(1080, 1920);
    for (int i = 0; i < 30; i++) box(&m, 30 + 33 * i, 20 + 61 * i, 6, 400 - 10 * i);
    n = plan("strokes", &m, 256, &r);
    int kmax = 0;
    for (int i = 0; i < n; i++) kmax = r[i].k > kmax ? r[i].k : kmax;
    CHECK(n >= 1, "strokes: %d regions", n);
    free(r);
    free_mask(&m);

    /* thousands of tiny holes: bounded time, disjoint windows */
    m = new_mask(2000, 3000);
    int dots = 0;
    for (int y = 5; y < 2000; y += 23)
        for (int x = 7; x < 3000; x += 29, dots++) box(&m, y, x, 2, 2);
    clock_t t0 = clock();
    n = plan("dots", &m, 256, &r);
    double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(n >= 1 && n < dots / 4, "%d dots gave %d regions", dots, n);
    CHECK(sec < 2.0, "planning %d dots took %.2f s", dots, sec);
    free(r);
    free_mask(&m);

    /* all hole: one region, the whole image, shrunk */
    m = new_mask(700, 1000);
    box(&m, 0, 0, 700, 1000);
    n = plan("all hole", &m, 256, &r);
    CHECK(n == 1 && r[0].x0 == 0 && r[0].y0 == 0 && r[0].x1 == 1000 && r[0].y1 == 700 &&
              r[0].k > 1,
          "all hole: %d regions, k %d", n, n ? r[0].k : -1);
    free(r);
    free_mask(&m);

    /* The window is the hole box grown by max(2r, 32k) (r: the hole's
     * half-thickness in pixels): a 96x96 box on cell boundaries, far from the
     * borders, is 12 cells thick, r = 6 cells = 48 px, k = 2 at working size
     * 256 (r over working/8 = 32), so the margin is max(96, 64) = 96. */
    m = new_mask(1000, 1200);
    box(&m, 400, 480, 96, 96);
    n = plan("thick hole", &m, 256, &r);
    CHECK(n == 1 && r[0].hx0 == 480 && r[0].hy0 == 400 && r[0].hx1 == 576 && r[0].hy1 == 496,
          "thick hole: %d regions, hole box %d,%d-%d,%d", n, n ? r[0].hx0 : -1,
          n ? r[0].hy0 : -1, n ? r[0].hx1 : -1, n ? r[0].hy1 : -1);
    if (n == 1)
        CHECK(r[0].k == 2 && r[0].x0 == 480 - 96 && r[0].y0 == 400 - 96 &&
                  r[0].x1 == 576 + 96 && r[0].y1 == 496 + 96,
              "thick hole: window %d,%d-%d,%d k %d, expected the box grown by 96, k 2",
              r[0].x0, r[0].y0, r[0].x1, r[0].y1, r[0].k);
    free(r);
    free_mask(&m);

    /* a 1-pixel-wide hole in a 16-pixel image */
    m = new_mask(16, 300);
    box(&m, 0, 150, 16, 1);
    n = plan("narrow image", &m, 256, &r);
    CHECK(n == 1 && r[0].k == 1, "narrow image: %d regions", n);
    free(r);
    free_mask(&m);
    return check_report();
}
