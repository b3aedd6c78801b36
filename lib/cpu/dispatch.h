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

/* Index of a kernel table's slot in gi_model.packed[]. */
int gi_kernels_slot(const gi_kernels *k);

#endif
