/* NEON matrix product. Tile: 6 rows x 4 q registers (16 columns): 24
 * accumulators + 4 of B + A's broadcasts of the 32 registers.
 */
#include "vec_neon.h"

#define GEMM_TILE_VECS 4
#define GEMM_FN gi_gemm_ab_neon
#include "../gemm_simd.h"
