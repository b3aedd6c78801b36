/* AVX-512 (F/BW/DQ/VL) convolution and the avx512 kernel table. Tile: 16-float
 * zmm: 6 pixels x 4 columns (two feature/gate pairs of 16 channels) = 24
 * accumulators + 4 weights of the 32 registers; the input broadcasts fold into
 * the FMAs.
 */
#include "vec_avx512.h"

#define CONV_PANEL_VECS 4
#include "../conv_direct_simd.h"

GI_SIMD_KERNEL_TABLE(avx512, GI_ISA_AVX512, gi_gemm_ab_avx512, gi_kernels_avx512)
