/* Hole pre-fill benchmark: gi_pushpull_fill (the baseline, measured in the
 * same run) against gi_guided_pushpull_fill and gi_ring_warp_fill with drawn
 * guide lines through the hole, on the network input layout gi_inpaint uses
 * (6 floats per pixel, the guide plane in channel 3). Prints a Markdown table: best of N calls,
 * ms, the ratio to the baseline and the scratch each needs.
 *
 *   fill_bench [WxH ...]          default 768x512 1920x1080 4000x3000 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/fill.h"

#define CIN 6
#define MIN_SECONDS 0.5

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* A hole like a user's: 12 strokes (about 17 % of the image), and 6
 * guide lines 2 px wide crossing it (guide only counts inside the hole). */
static void make_case(int32_t h, int32_t w, float *x, float *hole) {
    uint32_t r = 12345;
    size_t n = (size_t)h * w;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        for (int c = 0; c < 3; c++) x[i * CIN + c] = (float)((r >> (8 + 4 * c)) & 255) / 127.5f - 1.0f;
        x[i * CIN + 3] = 0.0f;
        hole[i] = 0.0f;
    }
    int32_t t = (w < h ? w : h) / 70; /* stroke half-width */
    for (int s = 0; s < 12; s++) {
        int32_t y = (int32_t)((s * 7 + 3) % 12) * h / 12, x0 = w / 10, x1 = w - w / 10;
        for (int32_t xx = x0; xx < x1; xx++) {
            int32_t yc = y + (int32_t)((long)(xx - x0) * (s % 2 ? 1 : -1) * h / (4L * w));
            for (int32_t yy = yc - t; yy <= yc + t; yy++)
                if (yy >= 0 && yy < h && (s % 3 == 0 || xx < w / 2)) hole[(size_t)yy * w + xx] = 1.0f;
        }
    }
    for (int l = 0; l < 6; l++) {
        int32_t gx = (l + 1) * w / 7;
        for (int32_t yy = 0; yy < h; yy++)
            for (int32_t d = 0; d < 2; d++) {
                size_t i = (size_t)yy * w + gx + d + yy / 8;
                if (gx + d + yy / 8 < w && hole[i] != 0.0f) x[i * CIN + 3] = 1.0f;
            }
    }
}

/* guided: 0 push-pull, 1 guided push-pull, 2 ring warp */
static double best_ms(int guided, int32_t h, int32_t w, const float *x0, float *x,
                      const float *hole, void *scratch) {
    double best = 1e30, start = now();
    int calls = 0;
    while (calls < 3 || now() - start < MIN_SECONDS) {
        memcpy(x, x0, (size_t)h * w * CIN * sizeof(float));
        double t = now();
        if (guided == 2)
            gi_ring_warp_fill(x, h, w, CIN, hole, x + 3, CIN, scratch);
        else if (guided)
            gi_guided_pushpull_fill(x, h, w, CIN, hole, x + 3, CIN, scratch);
        else
            gi_pushpull_fill(x, h, w, CIN, hole, scratch);
        t = now() - t;
        if (t < best) best = t;
        calls++;
    }
    return best * 1e3;
}

int main(int argc, char **argv) {
    const char *defaults[] = {"768x512", "1920x1080", "4000x3000"};
    int nsizes = argc > 1 ? argc - 1 : 3;
    printf("| size | hole | guide px | fill | ms (best) | vs push-pull | scratch MB |\n"
           "|---|---:|---:|---|---:|---:|---:|\n");
    for (int k = 0; k < nsizes; k++) {
        int w, h;
        if (sscanf(argc > 1 ? argv[k + 1] : defaults[k], "%dx%d", &w, &h) != 2 || w < 1 || h < 1) {
            fprintf(stderr, "fill_bench: sizes are WxH\n");
            return 2;
        }
        size_t n = (size_t)h * w;
        size_t sp = gi_pushpull_scratch(h, w), sg = gi_guided_pushpull_scratch(h, w);
        size_t sr = gi_ring_warp_scratch(h, w); /* covers the other two */
        float *x0 = malloc(n * CIN * sizeof(float)), *x = malloc(n * CIN * sizeof(float));
        float *hole = malloc(n * sizeof(float));
        void *scratch = malloc(sr);
        if (!x0 || !x || !hole || !scratch) {
            fprintf(stderr, "fill_bench: out of memory at %dx%d\n", w, h);
            return 1;
        }
        make_case(h, w, x0, hole);
        size_t nh = 0, ng = 0;
        for (size_t i = 0; i < n; i++) nh += hole[i] != 0.0f, ng += x0[i * CIN + 3] != 0.0f;
        double plain = best_ms(0, h, w, x0, x, hole, scratch);
        double guided = best_ms(1, h, w, x0, x, hole, scratch);
        double ring = best_ms(2, h, w, x0, x, hole, scratch);
        printf("| %dx%d | %.1f %% | %zu | push-pull | %.1f | 1.00x | %.1f |\n", w, h,
               100.0 * nh / n, ng, plain, sp / 1e6);
        printf("| %dx%d | %.1f %% | %zu | guided push-pull | %.1f | %.2fx | %.1f |\n", w, h,
               100.0 * nh / n, ng, guided, guided / plain, sg / 1e6);
        printf("| %dx%d | %.1f %% | %zu | ring warp | %.1f | %.2fx | %.1f |\n", w, h,
               100.0 * nh / n, ng, ring, ring / plain, sr / 1e6);
        free(x0), free(x), free(hole), free(scratch);
    }
    return 0;
}
