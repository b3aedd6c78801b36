#include "fma_peak.h"

#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "gatedinpaint.h"

#define PEAK_ITERS 4000000L

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* 12 independent accumulators hide the FMA latency on current cores. */
#define PEAK_BODY(T, FMA, SET1, ADD, STORE, LANES)                  \
    T acc[12], x = SET1(0.999999f), y = SET1(1e-7f);               \
    for (int i = 0; i < 12; i++) acc[i] = SET1((float)i);          \
    for (long it = 0; it < iters; it++)                            \
        for (int i = 0; i < 12; i++) acc[i] = FMA(acc[i], x, y);   \
    for (int i = 1; i < 12; i++) acc[0] = ADD(acc[0], acc[i]);     \
    float out[LANES];                                              \
    STORE(out, acc[0]);                                            \
    return (double)iters * 12 * 2 * LANES + out[0] * 0.0;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double loop_avx512(long iters) {
    PEAK_BODY(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}
__attribute__((target("avx2,fma"))) static double loop_avx2(long iters) {
    PEAK_BODY(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
#endif

/* Plain C multiply-add chains: what the scalar tier can hope for. */
static double loop_scalar(long iters) {
    float acc[12], x = 0.999999f, y = 1e-7f;
    for (int i = 0; i < 12; i++) acc[i] = (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) acc[i] = acc[i] * x + y;
    for (int i = 1; i < 12; i++) acc[0] += acc[i];
    return (double)iters * 12 * 2 + acc[0] * 0.0;
}

static double run(int32_t isa) {
#if defined(__x86_64__)
    if (isa >= GI_ISA_AVX512) return loop_avx512(PEAK_ITERS);
    if (isa >= GI_ISA_AVX2) return loop_avx2(PEAK_ITERS);
#endif
    return loop_scalar(PEAK_ITERS / 4);
}

double gi_fma_peak_gflops(int32_t isa, int threads) {
    double best = 0;
    for (int rep = 0; rep < 2; rep++) {
        double flops = 0, t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += run(isa);
        double g = flops / (now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
