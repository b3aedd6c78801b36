/* Plain C convolution: the reference every SIMD tier is tested against, and
 * the fallback. Written so that the compiler can vectorise the inner loop
 * over output channels and so that each weight row loaded from cache is
 * reused for a block of output pixels. */
#include <math.h>
#include <string.h>

#include "../kernels.h"
#include "gatedinpaint.h"

#define PIX_BLOCK 4 /* output pixels computed together */

/* Packed layout: bias[cconv], then weights [ky][kx][ci][co]. */
static size_t conv_packed_size(int32_t cconv, int32_t cin, int32_t k) {
    return (size_t)cconv + (size_t)k * k * cin * cconv;
}

static void conv_pack(const float *w, const float *bias, int32_t cconv,
                      int32_t cin, int32_t k, float *packed) {
    memcpy(packed, bias, (size_t)cconv * sizeof *packed);
    float *dst = packed + cconv;
    for (int32_t ky = 0; ky < k; ky++)
        for (int32_t kx = 0; kx < k; kx++)
            for (int32_t ci = 0; ci < cin; ci++)
                for (int32_t co = 0; co < cconv; co++)
                    *dst++ = w[(((size_t)co * cin + ci) * k + ky) * k + kx];
}

/* Accumulators for PIX_BLOCK pixels, plus a zero row standing in for
 * input pixels in the padding. */
static size_t conv_scratch_size(const gi_conv_shape *sh) {
    return (size_t)PIX_BLOCK * sh->cconv + (size_t)sh->cin;
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Activation epilogue: gated layers store act(first half) * sigmoid(second).
 * Partial convolutions (scale != NULL) renormalise first; *scale == 0: no
 * valid input, the output is 0. */
static void epilogue(const gi_conv_shape *sh, const float *acc, const float *bias,
                     const float *scale, float *out) {
    int32_t half = sh->cout;
    if (scale) {
        for (int32_t j = 0; j < half; j++) {
            float v = acc[j] * *scale + bias[j];
            if (sh->act == GI_ACT_RELU) v = v > 0.0f ? v : 0.0f;
            if (sh->act == GI_ACT_LEAKY_RELU) v = v > 0.0f ? v : v * 0.2f;
            out[j] = *scale != 0.0f ? v : 0.0f;
        }
        return;
    }
    switch (sh->act) {
    case GI_ACT_ELU_GATED:
        for (int32_t j = 0; j < half; j++) {
            float f = acc[j];
            f = f > 0.0f ? f : expm1f(f);
            out[j] = f * sigmoidf(acc[half + j]);
        }
        break;
    case GI_ACT_RELU_GATED:
        for (int32_t j = 0; j < half; j++) {
            float f = acc[j] > 0.0f ? acc[j] : 0.0f;
            out[j] = f * sigmoidf(acc[half + j]);
        }
        break;
    case GI_ACT_TANH:
        for (int32_t j = 0; j < half; j++) out[j] = tanhf(acc[j]);
        break;
    default:
        memcpy(out, acc, (size_t)half * sizeof *out);
        break;
    }
}

static void conv_rows(const gi_conv_shape *sh, const float *in, const float *packed,
                      const float *scale, float *out, int32_t y0, int32_t y1,
                      float *scratch) {
    const int32_t cconv = sh->cconv, cin = sh->cin, k = sh->k;
    const int32_t up_h = sh->in_h * sh->up, up_w = sh->in_w * sh->up;
    const float *bias = packed, *wts = packed + cconv;
    float *acc = scratch;
    float *zeros = scratch + (size_t)PIX_BLOCK * cconv;
    memset(zeros, 0, (size_t)cin * sizeof *zeros);

    for (int32_t oy = y0; oy < y1; oy++) {
        for (int32_t ox0 = 0; ox0 < sh->out_w; ox0 += PIX_BLOCK) {
            int32_t nb = sh->out_w - ox0 < PIX_BLOCK ? sh->out_w - ox0 : PIX_BLOCK;
            for (int32_t b = 0; b < PIX_BLOCK; b++) {
                if (scale)
                    memset(acc + (size_t)b * cconv, 0, (size_t)cconv * sizeof *acc);
                else
                    memcpy(acc + (size_t)b * cconv, bias, (size_t)cconv * sizeof *acc);
            }
            for (int32_t ky = 0; ky < k; ky++) {
                int32_t iy = oy * sh->stride - sh->pad_top + ky * sh->dil;
                int row_ok = iy >= 0 && iy < up_h;
                const float *row = row_ok
                    ? in + (size_t)(iy / sh->up) * sh->in_w * sh->in_pstride : NULL;
                for (int32_t kx = 0; kx < k; kx++) {
                    /* Input pixel of each block member for this tap. */
                    const float *px[PIX_BLOCK];
                    for (int32_t b = 0; b < PIX_BLOCK; b++) {
                        int32_t ix = (ox0 + b) * sh->stride - sh->pad_left + kx * sh->dil;
                        px[b] = (row_ok && b < nb && ix >= 0 && ix < up_w)
                            ? row + (size_t)(ix / sh->up) * sh->in_pstride : zeros;
                    }
                    const float *w = wts + (size_t)(ky * k + kx) * cin * cconv;
                    for (int32_t ci = 0; ci < cin; ci++, w += cconv) {
                        const float a0 = px[0][ci], a1 = px[1][ci];
                        const float a2 = px[2][ci], a3 = px[3][ci];
                        float *restrict c0 = acc, *restrict c1 = acc + cconv;
                        float *restrict c2 = acc + 2 * (size_t)cconv;
                        float *restrict c3 = acc + 3 * (size_t)cconv;
                        const float *restrict wr = w;
                        for (int32_t co = 0; co < cconv; co++) {
                            c0[co] += a0 * wr[co];
                            c1[co] += a1 * wr[co];
                            c2[co] += a2 * wr[co];
                            c3[co] += a3 * wr[co];
                        }
                    }
                }
            }
            for (int32_t b = 0; b < nb; b++) {
                size_t p = (size_t)oy * sh->out_w + ox0 + b;
                epilogue(sh, acc + (size_t)b * cconv, bias, scale ? scale + p : NULL,
                         out + p * sh->out_pstride);
            }
        }
    }
}

void gi_gemm_ab_scalar(int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float *c, size_t ldc);

static const gi_kernels scalar_kernels = {
    .name = "scalar",
    .isa = GI_ISA_SCALAR,
    .conv_packed_size = conv_packed_size,
    .conv_pack = conv_pack,
    .conv_scratch_size = conv_scratch_size,
    .conv_rows = conv_rows,
    .gemm_ab = gi_gemm_ab_scalar,
};

const gi_kernels *gi_kernels_scalar(void) { return &scalar_kernels; }
