/* AVX2+FMA convolution and the avx2 kernel table. Tile: 8-float ymm: 6 pixels
 * x 2 columns (one feature/gate pair of 8 channels) = 12 accumulators + 2
 * weights + 1 broadcast of the 16 registers.
 */
#include "vec_avx2.h"

#define CONV_PANEL_VECS 2
#include "../conv_direct_simd.h"

void gi_gemm_ab_avx2(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                     const float *b, size_t ldb, float *c, size_t ldc);

static const gi_kernels avx2_kernels = {
    .name = "avx2",
    .isa = GI_ISA_AVX2,
    .conv_packed_size = conv_packed_size,
    .conv_pack = conv_pack,
    .conv_scratch_size = conv_scratch_size,
    .conv_rows = conv_rows,
    .gemm_ab = gi_gemm_ab_avx2,
};

const gi_kernels *gi_kernels_avx2(void) { return &avx2_kernels; }
