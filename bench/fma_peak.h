/* The machine's floating-point peak, measured: a register-only loop of
 * independent FMA chains on every thread (no memory traffic). */
#ifndef GI_BENCH_FMA_PEAK_H
#define GI_BENCH_FMA_PEAK_H

#include <stdint.h>

/* GFLOP/s (2 per FMA lane) of the widest FMA of `isa` (GI_ISA_*) on
 * `threads` threads together; the best of two tries. */
double gi_fma_peak_gflops(int32_t isa, int threads);

#endif
