/* AVX2+FMA convolution and the avx2 kernel table. Tile: 8-float ymm: 6 pixels
 * x 2 columns (one feature/gate pair of 8 channels) = 12 accumulators + 2
 * weights + 1 broadcast of the 16 registers.
 */
#include "vec_avx2.h"

#define CONV_PANEL_VECS 2
#include "../conv_direct_simd.h"

GI_SIMD_KERNEL_TABLE(avx2, GI_ISA_AVX2, gi_gemm_ab_avx2, gi_kernels_avx2)
