/* AVX-512 (F/BW/DQ/VL) convolution and the avx512 kernel table. Tile: 16-float
 * zmm: 6 pixels x 4 columns (two feature/gate pairs of 16 channels) = 24
 * accumulators + 4 weights of the 32 registers; the input broadcasts fold into
 * the FMAs.
 */
#include "vec_avx512.h"

#define CONV_PANEL_VECS 4
#include "../conv_direct_simd.h"

void gi_gemm_ab_avx512(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float *c, size_t ldc);

static const gi_kernels avx512_kernels = {
    .name = "avx512",
    .isa = GI_ISA_AVX512,
    .conv_packed_size = conv_packed_size,
    .conv_pack = conv_pack,
    .conv_scratch_size = conv_scratch_size,
    .conv_rows = conv_rows,
    .gemm_ab = gi_gemm_ab_avx512,
};

const gi_kernels *gi_kernels_avx512(void) { return &avx512_kernels; }
