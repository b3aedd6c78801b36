/* Kernel micro-benchmark: the machine's FMA peak from a tight register-only
 * loop, then every kernel table this CPU runs on the network's typical
 * convolution shapes and on the attention GEMM, in GFLOP/s and % of that
 * peak, on 1 and 2 threads (rows split as lib/graph/deepfill.c does,
 * GEMM columns as lib/graph/attention.c does).
 *
 * The machine may be shared, so the peak is measured again right before and
 * after each operation (the larger of the two is the reference), and each
 * time is the best of repeated calls.
 *
 *   kernels_bench [table ...]     e.g. kernels_bench avx512 avx2 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/dispatch.h"
#include "fma_peak.h"
#include "gatedinpaint.h"
#include "kernels/kernels.h"

#ifdef _OPENMP
#include <omp.h>
#define MAX_THREADS 2
#else
#define MAX_THREADS 1 /* built without OpenMP */
static int omp_get_thread_num(void) { return 0; }
static int omp_get_num_threads(void) { return 1; }
#endif

#define MIN_SECONDS 0.25 /* per measurement */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* ---- the measured operations ------------------------------------------ */

static float *rand_buf(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof *p + 63) & ~(size_t)63);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / (float)(1 << 24) - 0.5f;
    }
    return p;
}

typedef struct conv_case {
    const char *name;
    int32_t in_h, in_w, cin, up, k, stride, dil, cconv, act;
} conv_case;

static const conv_case conv_cases[] = {
    {"cin96 cconv192 k3 64x64", 64, 64, 96, 1, 3, 1, 1, 192, GI_ACT_ELU_GATED},
    {"cin96 cconv192 k3 128x128", 128, 128, 96, 1, 3, 1, 1, 192, GI_ACT_ELU_GATED},
    {"cin96 cconv192 k3 d16 128x128", 128, 128, 96, 1, 3, 1, 16, 192, GI_ACT_ELU_GATED},
    {"cin48 cconv96 k3 s2 ->128x128", 256, 256, 48, 1, 3, 2, 1, 96, GI_ACT_ELU_GATED},
    {"cin48 cconv96 k3 up2 ->128x128", 64, 64, 48, 2, 3, 1, 1, 96, GI_ACT_ELU_GATED},
    {"cin5 cconv48 k5 256x256", 256, 256, 5, 1, 5, 1, 1, 48, GI_ACT_ELU_GATED},
};

static void conv_shape(const conv_case *c, gi_conv_shape *sh) {
    int32_t eh = c->in_h * c->up, ew = c->in_w * c->up, keff = (c->k - 1) * c->dil + 1;
    memset(sh, 0, sizeof *sh);
    sh->in_h = c->in_h, sh->in_w = c->in_w, sh->cin = c->cin, sh->in_pstride = c->cin;
    sh->up = c->up, sh->k = c->k, sh->stride = c->stride, sh->dil = c->dil;
    sh->out_h = (eh + c->stride - 1) / c->stride, sh->out_w = (ew + c->stride - 1) / c->stride;
    int32_t ph = (sh->out_h - 1) * c->stride + keff - eh;
    int32_t pw = (sh->out_w - 1) * c->stride + keff - ew;
    sh->pad_top = ph > 0 ? ph / 2 : 0, sh->pad_left = pw > 0 ? pw / 2 : 0;
    sh->cconv = c->cconv, sh->cout = c->cconv / 2, sh->out_pstride = sh->cout;
    sh->act = c->act;
}

/* Best seconds per call of one convolution on nt threads. */
static double time_conv(const gi_kernels *kt, const gi_conv_shape *sh, int nt) {
    float *in = rand_buf((size_t)sh->in_h * sh->in_w * sh->in_pstride);
    float *w = rand_buf((size_t)sh->cconv * sh->cin * sh->k * sh->k);
    float *bias = rand_buf((size_t)sh->cconv);
    float *packed = rand_buf(kt->conv_packed_size(sh->cconv, sh->cin, sh->k));
    size_t scratch_n = kt->conv_scratch_size(sh);
    float *scratch = rand_buf(scratch_n * nt);
    float *out = rand_buf((size_t)sh->out_h * sh->out_w * sh->out_pstride);
    kt->conv_pack(w, bias, sh->cconv, sh->cin, sh->k, packed);
    double best = 1e30, total = 0;
    for (int rep = 0; rep < 2 || total < MIN_SECONDS; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num(), n = omp_get_num_threads();
            int32_t y0 = (int32_t)((int64_t)sh->out_h * t / n);
            int32_t y1 = (int32_t)((int64_t)sh->out_h * (t + 1) / n);
            if (y1 > y0)
                kt->conv_rows(sh, in, packed, NULL, out, y0, y1, scratch + (size_t)t * scratch_n);
        }
        double dt = now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    free(in), free(w), free(bias), free(packed), free(scratch), free(out);
    return best;
}

/* Best seconds per call of C = A B on nt threads, columns split. */
static double time_gemm(const gi_kernels *kt, int32_t m, int32_t n, int32_t k, int nt) {
    float *a = rand_buf((size_t)m * k), *b = rand_buf((size_t)k * n);
    float *c = rand_buf((size_t)m * n);
    double best = 1e30, total = 0;
    int32_t nb = ((n + nt - 1) / nt + 15) & ~15;
    for (int rep = 0; rep < 2 || total < MIN_SECONDS; rep++) {
        double t0 = now();
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int32_t j0 = 0; j0 < n; j0 += nb) {
            int32_t nj = n - j0 < nb ? n - j0 : nb;
            kt->gemm_ab(m, nj, k, a, (size_t)k, b + j0, (size_t)n, c + j0, (size_t)n);
        }
        double dt = now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    free(a), free(b), free(c);
    return best;
}

static int wanted(const char *name, int argc, char **argv) {
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name)) return 1;
    return 0;
}

/* One table row: the peak before and after the operation (the larger is
 * the reference; a busy neighbour lowers both), then the operation. */
static void row(const char *table, int32_t top, int nt, const char *op, double flops,
                double (*run)(const void *, int), const void *arg) {
    double p0 = gi_fma_peak_gflops(top, nt), secs = run(arg, nt), p1 = gi_fma_peak_gflops(top, nt);
    double peak = p0 > p1 ? p0 : p1, g = flops / secs * 1e-9;
    printf("| %-7s | %d | %-31s | %8.3f | %7.1f | %6.1f | %5.1f%% |\n", table, nt, op,
           secs * 1e3, g, peak, 100 * g / peak);
    fflush(stdout);
}

typedef struct conv_run {
    const gi_kernels *kt;
    gi_conv_shape sh;
} conv_run;

static double run_conv(const void *arg, int nt) {
    const conv_run *r = arg;
    return time_conv(r->kt, &r->sh, nt);
}

static double run_gemm(const void *arg, int nt) {
    return time_gemm(arg, 256, 4096, 864, nt);
}

int main(int argc, char **argv) {
    static const int32_t tiers[] = {GI_ISA_AVX512, GI_ISA_AVX2, GI_ISA_NEON, GI_ISA_SCALAR};
    int32_t top = gi_kernels_select(GI_ISA_BEST)->isa;
    printf("peak: FMA loop on %s, all threads together\n\n",
           top >= GI_ISA_AVX512 ? "zmm registers"
           : top >= GI_ISA_AVX2 ? "ymm registers"
                                : "floats");
    printf("| table   | threads | operation                       |       ms | GFLOP/s |"
           "   peak | %% peak |\n");
    printf("|---------|---|---------------------------------|----------|---------|--------|"
           "--------|\n");
    const gi_kernels *seen[4];
    int nseen = 0;
    for (size_t t = 0; t < sizeof tiers / sizeof tiers[0]; t++) {
        const gi_kernels *kt = gi_kernels_select(tiers[t]);
        int dup = 0;
        for (int i = 0; i < nseen; i++) dup |= seen[i] == kt;
        if (dup || !wanted(kt->name, argc, argv)) continue;
        seen[nseen++] = kt;
        for (int nt = 1; nt <= MAX_THREADS; nt++) {
            for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0]; c++) {
                conv_run r = {kt, {0}};
                conv_shape(&conv_cases[c], &r.sh);
                const gi_conv_shape *sh = &r.sh;
                double flops = 2.0 * sh->out_h * sh->out_w * sh->cconv * sh->cin * sh->k * sh->k;
                row(kt->name, top, nt, conv_cases[c].name, flops, run_conv, &r);
            }
            row(kt->name, top, nt, "gemm m256 n4096 k864", 2.0 * 256 * 4096 * 864, run_gemm, kt);
        }
    }
    return 0;
}
