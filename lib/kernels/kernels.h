/* The kernel table: every compute primitive the graph needs, one table per
 * instruction set. Kernels see plain arrays and shapes, never handles.
 * An ISA fills the entries it accelerates and copies the rest from the tier
 * below (see lib/cpu/dispatch.c). */
#ifndef GI_KERNELS_H
#define GI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Geometry of one convolution on HWC float data. */
typedef struct gi_conv_shape {
    int32_t in_h, in_w, cin; /* input as stored (before upsampling) */
    int32_t in_pstride;      /* floats between two input pixels (>= cin) */
    int32_t up;              /* 1, or 2 for nearest x2 upsampling on load */
    int32_t k, stride, dil;
    int32_t pad_top, pad_left; /* TF SAME; bottom/right follow from sizes */
    int32_t out_h, out_w;
    int32_t cconv;       /* convolution output channels */
    int32_t cout;        /* stored channels (cconv/2 when gated) */
    int32_t out_pstride; /* floats between two output pixels (>= cout) */
    int32_t act;         /* GI_ACT_* */
} gi_conv_shape;

/* Activations of the partial-convolution family only (gi_op_* takes the
 * GI_ACT_* of gatedinpaint.h). */
#define GI_ACT_RELU 16
#define GI_ACT_LEAKY_RELU 17 /* slope 0.2 */

typedef struct gi_kernels {
    const char *name; /* "scalar", "avx2", ... */
    int32_t isa;      /* GI_ISA_* */

    /* Packed weight size in floats, and the packing from OIHW. */
    size_t (*conv_packed_size)(int32_t cconv, int32_t cin, int32_t k);
    void (*conv_pack)(const float *w_oihw, const float *bias, int32_t cconv,
                      int32_t cin, int32_t k, float *packed);
    /* Per-thread scratch conv_rows needs, in floats. */
    size_t (*conv_scratch_size)(const gi_conv_shape *sh);
    /* Output rows [y0, y1) of a convolution + activation. Must give the same
     * bits for a row whatever the [y0, y1) split (threads split rows).
     * scale NULL: out = act(bias + taps). scale non-NULL: a partial
     * convolution (Liu et al. 2018), the bias added after the taps are
     * renormalised: out = act(taps * scale[p] + bias), where scale[p]
     * (out_h x out_w) is 1 / (valid input values in output pixel p's
     * window), or 0 when none is valid: then out = 0. Its input must already
     * be multiplied by its mask; act: GI_ACT_NONE, GI_ACT_RELU or
     * GI_ACT_LEAKY_RELU. Scratch: conv_scratch_size. */
    void (*conv_rows)(const gi_conv_shape *sh, const float *in, const float *packed,
                      const float *scale, float *out, int32_t y0, int32_t y1,
                      float *scratch);

    /* C[i][j] = sum_k A[i*lda + k] * B[k*ldb + j] for i < m, j < n
     * (overwrites C). Summation over k in increasing order, so results do
     * not depend on how callers split m across threads. Used by the
     * attention for matching and pasting. */
    void (*gemm_ab)(int32_t m, int32_t n, int32_t k, const float *a,
                    size_t lda, const float *b, size_t ldb, float *c,
                    size_t ldc);
} gi_kernels;

/* The plain C tier: the test oracle and the fallback of every ISA. */
const gi_kernels *gi_kernels_scalar(void);

/* x86-64 tiers, present when lib/kernels/meson.build built them
 * (GI_HAVE_AVX2 / GI_HAVE_AVX512 in kernels/isa_config.h). */
const gi_kernels *gi_kernels_avx2(void);
const gi_kernels *gi_kernels_avx512(void);
/* AArch64 tier (GI_HAVE_NEON). */
const gi_kernels *gi_kernels_neon(void);

#endif
