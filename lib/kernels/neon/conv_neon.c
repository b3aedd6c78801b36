/* NEON convolution and the neon kernel table. Tile: 4-float q registers: 6
 * pixels x 4 columns (two feature/gate pairs of 4 channels) = 24
 * accumulators + 4 weights + broadcasts of the 32 registers.
 */
#include "vec_neon.h"

#define CONV_PANEL_VECS 4
#include "../conv_direct_simd.h"

GI_SIMD_KERNEL_TABLE(neon, GI_ISA_NEON, gi_gemm_ab_neon, gi_kernels_neon)
