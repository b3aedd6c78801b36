/* AVX-512 (F/BW/DQ/VL) matrix product. Tile: 6 rows x 4 zmm (64 columns): 24
 * accumulators + 4 of B of the 32 registers; A's broadcasts fold into the
 * FMAs.
 */
#include "vec_avx512.h"

#define GEMM_TILE_VECS 4
#define GEMM_FN gi_gemm_ab_avx512
#include "../gemm_simd.h"
