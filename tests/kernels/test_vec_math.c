/* The SIMD activations' accuracy (lib/kernels/vec_math.h), in ulp of the
 * float result against double precision, on [-30, 30] and near 0: the
 * figures docs/KERNELS.md quotes (this test prints them). Each x86 tier
 * built here runs where the CPU has it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/check.h"

void gi_test_act_avx2(int act, const float *x, float *y, int32_t n);
void gi_test_act_avx512(int act, const float *x, float *y, int32_t n);

static double reference(int act, double x) {
    switch (act) {
    case 0: return exp(x);
    case 1: return x > 0 ? x : expm1(x);
    case 2: return 1.0 / (1.0 + exp(-x));
    default: return tanh(x);
    }
}

/* |got - want| in units of the float spacing at want. */
static double ulps(float got, double want) {
    float w = (float)want;
    if (w == 0.0f) return got == 0.0f ? 0.0 : INFINITY;
    double spacing = (double)nextafterf(fabsf(w), INFINITY) - (double)fabsf(w);
    return fabs((double)got - want) / spacing;
}

int main(void) {
    static const char *names[] = {"exp", "ELU", "sigmoid", "tanh"};
    /* documented bounds (docs/KERNELS.md, "Activations"), a little above
     * what was measured */
    static const double bound[] = {1.5, 1.5, 3.0, 3.0};
    enum { N = 1 << 21, TINY = 4096 };
    float *x = malloc(sizeof(float) * (N + TINY)), *y = malloc(sizeof(float) * (N + TINY));
    for (int i = 0; i < N; i++) x[i] = -30.0f + 60.0f * (float)i / (float)(N - 1);
    for (int i = 0; i < TINY; i++) /* +-1e-7 .. +-1e-1, geometric */
        x[N + i] = (i % 2 ? -1.0f : 1.0f) * powf(10.0f, -7.0f + 6.0f * (float)(i / 2) / (TINY / 2));
    struct { const char *name; int ok; void (*fn)(int, const float *, float *, int32_t); } isa[] = {
#ifdef GI_TEST_HAVE_AVX2
        {"avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), gi_test_act_avx2},
#endif
#ifdef GI_TEST_HAVE_AVX512
        {"avx512", __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"),
         gi_test_act_avx512},
#endif
    };
    int ran = 0;
    for (size_t t = 0; t < sizeof isa / sizeof isa[0]; t++) {
        if (!isa[t].ok) {
            printf("%s: not on this CPU\n", isa[t].name);
            continue;
        }
        ran++;
        for (int act = 0; act < 4; act++) {
            isa[t].fn(act, x, y, N + TINY);
            double worst = 0;
            float at = 0;
            for (int i = 0; i < N + TINY; i++) {
                double u = ulps(y[i], reference(act, x[i]));
                if (u > worst) worst = u, at = x[i];
            }
            printf("%s %s: %.2f ulp at most (x = %g)\n", isa[t].name, names[act], worst, at);
            CHECK(worst <= bound[act], "%s %s: %.2f ulp at x = %g, bound %.1f", isa[t].name,
                  names[act], worst, at, bound[act]);
        }
    }
    CHECK(ran > 0, "no SIMD tier to test on this CPU");
    free(x), free(y);
    return check_report();
}
