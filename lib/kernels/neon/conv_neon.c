/* NEON convolution and the neon kernel table. Tile: 4-float q registers: 6
 * pixels x 4 columns (two feature/gate pairs of 4 channels) = 24
 * accumulators + 4 weights + broadcasts of the 32 registers.
 */
#include "vec_neon.h"

#define CONV_PANEL_VECS 4
#include "../conv_direct_simd.h"

void gi_gemm_ab_neon(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                     const float *b, size_t ldb, float *c, size_t ldc);

static const gi_kernels neon_kernels = {
    .name = "neon",
    .isa = GI_ISA_NEON,
    .conv_packed_size = conv_packed_size,
    .conv_pack = conv_pack,
    .conv_scratch_size = conv_scratch_size,
    .conv_rows = conv_rows,
    .gemm_ab = gi_gemm_ab_neon,
};

const gi_kernels *gi_kernels_neon(void) { return &neon_kernels; }
