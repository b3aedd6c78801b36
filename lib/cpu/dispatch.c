#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "gatedinpaint.h"
#include "kernels/isa_config.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int32_t detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return GI_ISA_SCALAR;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return GI_ISA_SCALAR;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return GI_ISA_SCALAR; /* OS saves XMM+YMM */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return GI_ISA_SCALAR;
    int avx2 = (b >> 5) & 1;
    if (!avx2) return GI_ISA_SCALAR;
    /* AVX-512 F, DQ, BW, VL and the OS saving opmask + ZMM state. */
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
    if (avx512 && (xcr0 & 0xe6) == 0xe6) return GI_ISA_AVX512;
    return GI_ISA_AVX2;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
/* Advanced SIMD is architecturally mandatory, but ask the kernel anyway:
 * a system may disable it. */
static int32_t detect(void) {
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? GI_ISA_NEON : GI_ISA_SCALAR;
}
#elif defined(__aarch64__)
static int32_t detect(void) { return GI_ISA_NEON; }
#else
static int32_t detect(void) { return GI_ISA_SCALAR; }
#endif

int32_t gi_cpu_detected_isa(void) {
    static int32_t cached = -1; /* benign race: every thread computes the same */
    if (cached < 0) cached = detect();
    return cached;
}

static int32_t env_cap(void) {
    const char *e = getenv("GI_MAX_ISA");
    if (!e || !*e) return GI_ISA_BEST;
    if (!strcmp(e, "scalar")) return GI_ISA_SCALAR;
    if (!strcmp(e, "neon")) return GI_ISA_NEON;
    if (!strcmp(e, "avx2")) return GI_ISA_AVX2;
    if (!strcmp(e, "avx512")) return GI_ISA_AVX512;
    return GI_ISA_BEST; /* unknown names do not restrict */
}

/* Tables built into this library, best first; scalar is the last resort. */
static const gi_kernels *(*const tables[])(void) = {
#ifdef GI_HAVE_AVX512
    gi_kernels_avx512,
#endif
#ifdef GI_HAVE_AVX2
    gi_kernels_avx2,
#endif
#ifdef GI_HAVE_NEON
    gi_kernels_neon,
#endif
    gi_kernels_scalar,
};

const gi_kernels *gi_kernels_select(int32_t cap) {
    int32_t limit = gi_cpu_detected_isa();
    int32_t env = env_cap();
    if (env < limit) limit = env;
    if (cap < limit) limit = cap;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const gi_kernels *k = tables[i]();
        if (k->isa <= limit) return k;
    }
    return gi_kernels_scalar();
}

int gi_kernels_slot(const gi_kernels *k) {
    switch (k->isa) {
    case GI_ISA_NEON: return 1;
    case GI_ISA_AVX2: return 2;
    case GI_ISA_AVX512: return 3;
    default: return 0;
    }
}
