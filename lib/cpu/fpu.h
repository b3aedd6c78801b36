/* Flush denormals to zero while the library computes, as TensorFlow does on
 * CPUs: attention weights of exp(-90) and gates of sigmoid(-90) are
 * denormal, and denormal arithmetic is up to ~100x slower on x86. The
 * caller's floating-point mode is restored on the way out, in every thread
 * (OpenMP worker threads are shared with the host program). */
#ifndef GI_FPU_H
#define GI_FPU_H

#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

typedef struct gi_fpu {
    uint64_t saved;
} gi_fpu;

static inline gi_fpu gi_fpu_enter(void) {
    gi_fpu f = {0};
#if defined(__x86_64__) || defined(__i386__)
    f.saved = _mm_getcsr();
    _mm_setcsr((unsigned)f.saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    f.saved = fpcr;
    fpcr |= (uint64_t)1 << 24; /* FZ */
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
    return f;
}

static inline void gi_fpu_leave(gi_fpu f) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr((unsigned)f.saved);
#elif defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"(f.saved));
#else
    (void)f;
#endif
}

#endif
