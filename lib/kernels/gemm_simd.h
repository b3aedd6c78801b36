/* C = A B (row-major, any strides) written once over the vf_* operations of
 * an ISA header and instantiated by each ISA's gemm file, which defines
 * before including it:
 *   GEMM_TILE_VECS  vectors of columns of C per register tile,
 *   GEMM_FN         the exported function's name.
 * A register tile is GEMM_MR rows x GEMM_TILE_VECS vectors.
 * B is copied, GEMM_KC rows at a time, into a contiguous zero-padded panel
 * of GEMM_NR columns that stays in L1 while every row tile of A streams
 * over it; the MR x TILE_VECS accumulators live in registers and go
 * through C only between KC blocks. Each element of C is summed in
 * increasing k from 0 whatever m, n or the blocking, so callers may split
 * rows or columns across threads and get the same bits. */
#ifndef GI_GEMM_SIMD_H
#define GI_GEMM_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GEMM_MR 6
#define GEMM_NR (GEMM_TILE_VECS * GI_VF_LANES)
#define GEMM_KC (8192 / GEMM_NR) /* a 32 KiB panel of B */

/* Rows [0, mr) x columns [0, ncols) of C += A[:, 0:kc] * panel; first: C
 * starts from 0 instead of its contents. mr is a constant after inlining. */
GI_VF_INLINE void gemm_tile(int32_t kc, const float *a, size_t lda, const float *panel,
                            float *c, size_t ldc, int32_t ncols, int first, const int mr) {
    gi_vf acc[GEMM_MR][GEMM_TILE_VECS];
    GI_UNROLL
    for (int i = 0; i < mr; i++)
        GI_UNROLL
        for (int v = 0; v < GEMM_TILE_VECS; v++) {
            int32_t left = ncols - v * GI_VF_LANES;
            const float *ci = c + (size_t)i * ldc + v * GI_VF_LANES;
            acc[i][v] = first || left <= 0 ? vf_zero()
                        : left >= GI_VF_LANES ? vf_load(ci)
                                              : vf_load_n(ci, left);
        }
    const float *ar[GEMM_MR];
    GI_UNROLL
    for (int i = 0; i < mr; i++) ar[i] = a + (size_t)i * lda;
    for (int32_t kk = 0; kk < kc; kk++, panel += GEMM_NR) {
        gi_vf bv[GEMM_TILE_VECS];
        GI_UNROLL
        for (int v = 0; v < GEMM_TILE_VECS; v++) bv[v] = vf_load(panel + v * GI_VF_LANES);
        GI_UNROLL
        for (int i = 0; i < mr; i++) {
            const gi_vf x = vf_set1(ar[i][kk]);
            GI_UNROLL
            for (int v = 0; v < GEMM_TILE_VECS; v++) acc[i][v] = vf_fma(x, bv[v], acc[i][v]);
        }
    }
    GI_UNROLL
    for (int i = 0; i < mr; i++)
        GI_UNROLL
        for (int v = 0; v < GEMM_TILE_VECS; v++) {
            int32_t left = ncols - v * GI_VF_LANES;
            float *ci = c + (size_t)i * ldc + v * GI_VF_LANES;
            if (left >= GI_VF_LANES)
                vf_store(ci, acc[i][v]);
            else if (left > 0)
                vf_store_n(ci, acc[i][v], left);
        }
}

/* One function per row count, each with its accumulators in registers (see
 * conv_direct_simd.h for why not a switch over inlined calls). */
typedef void gemm_tile_fn(int32_t kc, const float *a, size_t lda, const float *panel,
                          float *c, size_t ldc, int32_t ncols, int first);
#define GEMM_TILE_DEF(MR)                                                                  \
    static __attribute__((noinline)) void gemm_tile_##MR##r(                               \
        int32_t kc, const float *a, size_t lda, const float *panel, float *c, size_t ldc,  \
        int32_t ncols, int first) {                                                        \
        gemm_tile(kc, a, lda, panel, c, ldc, ncols, first, MR);                            \
    }
GEMM_TILE_DEF(1)
GEMM_TILE_DEF(2)
GEMM_TILE_DEF(3)
GEMM_TILE_DEF(4)
GEMM_TILE_DEF(5)
GEMM_TILE_DEF(6)
static gemm_tile_fn *const gemm_tiles[GEMM_MR] = {gemm_tile_1r, gemm_tile_2r, gemm_tile_3r,
                                                  gemm_tile_4r, gemm_tile_5r, gemm_tile_6r};

/* All m rows against one packed panel: whole row tiles, then the tail. */
static void gemm_block_rows(int32_t m, int32_t kc, const float *a, size_t lda,
                            const float *panel, float *c, size_t ldc, int32_t ncols,
                            int first) {
    int32_t i0 = 0;
    for (; i0 + GEMM_MR <= m; i0 += GEMM_MR)
        gemm_tiles[GEMM_MR - 1](kc, a + (size_t)i0 * lda, lda, panel, c + (size_t)i0 * ldc,
                                ldc, ncols, first);
    if (i0 < m)
        gemm_tiles[m - i0 - 1](kc, a + (size_t)i0 * lda, lda, panel, c + (size_t)i0 * ldc, ldc,
                               ncols, first);
}

void GEMM_FN(int32_t m, int32_t n, int32_t k, const float *a, size_t lda, const float *b,
             size_t ldb, float *c, size_t ldc);

void GEMM_FN(int32_t m, int32_t n, int32_t k, const float *a, size_t lda, const float *b,
             size_t ldb, float *c, size_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int32_t i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof *c);
        return;
    }
    _Alignas(64) float panel[GEMM_KC * GEMM_NR];
    for (int32_t j0 = 0; j0 < n; j0 += GEMM_NR) {
        int32_t ncols = n - j0 < GEMM_NR ? n - j0 : GEMM_NR;
        for (int32_t k0 = 0; k0 < k; k0 += GEMM_KC) {
            int32_t kc = k - k0 < GEMM_KC ? k - k0 : GEMM_KC;
            for (int32_t kk = 0; kk < kc; kk++) {
                float *dst = panel + (size_t)kk * GEMM_NR;
                memcpy(dst, b + (size_t)(k0 + kk) * ldb + j0, (size_t)ncols * sizeof *dst);
                memset(dst + ncols, 0, (size_t)(GEMM_NR - ncols) * sizeof *dst);
            }
            gemm_block_rows(m, kc, a + k0, lda, panel, c + j0, ldc, ncols, k0 == 0);
        }
    }
}

#endif
