/* CPU feature detection and the choice of kernel table. */
#ifndef GI_DISPATCH_H
#define GI_DISPATCH_H

#include <stdint.h>

#include "../kernels/kernels.h"

/* Best GI_ISA_* tier this CPU and OS support (detected once). */
int32_t gi_cpu_detected_isa(void);

/* The kernel table to use under a cap (GI_OPT_MAX_ISA): the best tier that
 * is detected, built into this library, allowed by the GI_MAX_ISA
 * environment variable ("scalar", "neon", "avx2", "avx512") and <= cap. */
const gi_kernels *gi_kernels_select(int32_t cap);

/* Number of kernel tables (scalar, neon, avx2, avx512), and the index of a
 * table among them: caches of per-ISA data (packed weights) use it. */
#define GI_KERNEL_TABLES 4
int gi_kernels_slot(const gi_kernels *k);

#endif
