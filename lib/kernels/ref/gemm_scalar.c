/* Plain C matrix product in "axpy" form (the inner loop runs along rows of
 * B and C, so it vectorises without reassociating any sum). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ROW_BLOCK 4   /* rows of A sharing each loaded row of B */
#define COL_BLOCK 512 /* columns of C kept in cache */

void gi_gemm_ab_scalar(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float *c, size_t ldc);

void gi_gemm_ab_scalar(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float *c, size_t ldc) {
    for (int32_t i0 = 0; i0 < m; i0 += ROW_BLOCK) {
        int32_t mi = m - i0 < ROW_BLOCK ? m - i0 : ROW_BLOCK;
        for (int32_t j0 = 0; j0 < n; j0 += COL_BLOCK) {
            int32_t nj = n - j0 < COL_BLOCK ? n - j0 : COL_BLOCK;
            for (int32_t i = 0; i < mi; i++)
                memset(c + (size_t)(i0 + i) * ldc + j0, 0, (size_t)nj * sizeof *c);
            if (mi == ROW_BLOCK) {
                float *restrict c0 = c + (size_t)i0 * ldc + j0;
                float *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc;
                float *restrict c3 = c2 + ldc;
                const float *a0 = a + (size_t)i0 * lda;
                for (int32_t kk = 0; kk < k; kk++) {
                    const float *restrict br = b + (size_t)kk * ldb + j0;
                    const float x0 = a0[kk], x1 = a0[lda + kk];
                    const float x2 = a0[2 * lda + kk], x3 = a0[3 * lda + kk];
                    for (int32_t j = 0; j < nj; j++) {
                        c0[j] += x0 * br[j];
                        c1[j] += x1 * br[j];
                        c2[j] += x2 * br[j];
                        c3[j] += x3 * br[j];
                    }
                }
            } else {
                for (int32_t i = 0; i < mi; i++) {
                    float *restrict ci = c + (size_t)(i0 + i) * ldc + j0;
                    const float *ai = a + (size_t)(i0 + i) * lda;
                    for (int32_t kk = 0; kk < k; kk++) {
                        const float *restrict br = b + (size_t)kk * ldb + j0;
                        const float x = ai[kk];
                        for (int32_t j = 0; j < nj; j++) ci[j] += x * br[j];
                    }
                }
            }
        }
    }
}
