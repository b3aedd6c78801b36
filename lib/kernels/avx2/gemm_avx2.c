/* AVX2+FMA matrix product. Tile: 6 rows x 2 ymm (16 columns): 12 accumulators
 * + 2 of B + 1 broadcast of the 16 registers.
 */
#include "vec_avx2.h"

#define GEMM_TILE_VECS 2
#define GEMM_FN gi_gemm_ab_avx2
#include "../gemm_simd.h"
