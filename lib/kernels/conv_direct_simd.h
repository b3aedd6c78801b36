/* Direct convolution on HWC floats, written once over the vf_* operations
 * of an ISA header (avx2/vec_avx2.h, avx512/vec_avx512.h) and instantiated
 * by each ISA's conv file, which defines CONV_PANEL_VECS (2 or 4) before
 * including it: the vectors of output channels per weight panel.
 * A tile keeps CONV_TILE_PIX x CONV_PANEL_VECS accumulators in registers
 * over all k*k taps and input channels: per input channel it loads the
 * panel's weight vectors once and broadcasts one input value per pixel.
 *
 * Packed layout. The cconv channels become "vector columns" of
 * GI_VF_LANES channels. With cconv even (every gated layer) they come in
 * pairs: column 2q holds channels [qV, qV+V) of the first half and column
 * 2q+1 the same channels of the second half, so a gated layer's feature and
 * gate for a channel block sit in one tile and the epilogue computes
 * act(feature) * sigmoid(gate) in registers and stores only the first half.
 * Odd cconv (the 3-channel output layers) uses plain columns. Lanes past the
 * last channel are zero, so loads are always whole vectors and only the
 * stores are masked. Columns are grouped in panels of CONV_PANEL_VECS (the
 * last may be narrower; plain columns go one per panel), each stored as
 *   bias[nv*V], then weights [ky][kx][ci][nv*V].
 *
 * Every output value is bias + taps in (ky, kx, ci) order, whatever tile or
 * row range it is computed in, so any [y0, y1) split gives the same bits.
 * Partial convolutions (conv_rows with a scale) run the same tiles with a
 * per-pixel scale: taps from zero, then taps * scale + bias in the epilogue. */
#ifndef GI_CONV_DIRECT_SIMD_H
#define GI_CONV_DIRECT_SIMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gatedinpaint.h"
#include "kernels.h"
#include "vec_math.h"

#define CONV_V GI_VF_LANES
#define CONV_TILE_PIX 6 /* output pixels per register tile */
_Static_assert(CONV_PANEL_VECS == 2 || CONV_PANEL_VECS == 4,
               "panels hold whole (feature, gate) pairs; tile tables for 2 and 4");

typedef struct conv_cols {
    int32_t paired; /* cconv even: columns come in (first half, second half) pairs */
    int32_t half;   /* channels per half when paired */
    int32_t nvec;   /* vector columns */
} conv_cols;

static conv_cols conv_cols_of(int32_t cconv) {
    conv_cols c;
    c.paired = cconv % 2 == 0;
    c.half = c.paired ? cconv / 2 : cconv;
    c.nvec = (c.half + CONV_V - 1) / CONV_V * (c.paired ? 2 : 1);
    return c;
}

/* First output channel of column u; *n gets how many of its lanes are real. */
static int32_t conv_col_channel(const conv_cols *c, int32_t u, int32_t *n) {
    int32_t block = (c->paired ? u / 2 : u) * CONV_V;
    int32_t left = c->half - block;
    *n = left < CONV_V ? left : CONV_V;
    return (c->paired && u % 2 ? c->half : 0) + block;
}

/* Columns in the panel starting at column u0. */
static int32_t conv_panel_vecs(const conv_cols *c, int32_t u0) {
    if (!c->paired) return 1;
    return c->nvec - u0 < CONV_PANEL_VECS ? c->nvec - u0 : CONV_PANEL_VECS;
}

static size_t conv_packed_size(int32_t cconv, int32_t cin, int32_t k) {
    conv_cols c = conv_cols_of(cconv);
    return (size_t)c.nvec * CONV_V * (1 + (size_t)k * k * cin);
}

static void conv_pack(const float *w, const float *bias, int32_t cconv, int32_t cin,
                      int32_t k, float *packed) {
    conv_cols c = conv_cols_of(cconv);
    float *dst = packed;
    for (int32_t u0 = 0, nv; u0 < c.nvec; u0 += nv) {
        nv = conv_panel_vecs(&c, u0);
        for (int32_t v = 0; v < nv; v++) {
            int32_t n, ch = conv_col_channel(&c, u0 + v, &n);
            for (int32_t l = 0; l < CONV_V; l++) *dst++ = l < n ? bias[ch + l] : 0.0f;
        }
        for (int32_t ky = 0; ky < k; ky++)
            for (int32_t kx = 0; kx < k; kx++)
                for (int32_t ci = 0; ci < cin; ci++)
                    for (int32_t v = 0; v < nv; v++) {
                        int32_t n, ch = conv_col_channel(&c, u0 + v, &n);
                        for (int32_t l = 0; l < CONV_V; l++)
                            *dst++ = l < n ? w[(((size_t)(ch + l) * cin + ci) * k + ky) * k + kx]
                                           : 0.0f;
                    }
    }
}

/* One zero input pixel standing in for taps in the padding. */
static size_t conv_scratch_size(const gi_conv_shape *sh) { return (size_t)sh->cin; }

/* Stores of a column's lanes that are real channels. */
GI_VF_INLINE void conv_store_col(const conv_cols *c, int32_t u, gi_vf r, float *o) {
    int32_t n, ch = conv_col_channel(c, u, &n);
    if (n == CONV_V)
        vf_store(o + ch, r);
    else
        vf_store_n(o + ch, r, n);
}

/* Output pixels [ox0, ox0 + nx) of row oy, columns [u0, u0 + nv), with the
 * panel's bias and weights at panel; scale: NULL, or the partial
 * convolution's per-pixel scale (out_h x out_w). nv and nx are constants
 * after inlining, so the accumulators live in registers. */
GI_VF_INLINE void conv_tile(const gi_conv_shape *sh, const conv_cols *c, int32_t u0,
                            const float *panel, const float *in, const float *zero,
                            const float *scale, float *out, int32_t oy, int32_t ox0,
                            const int nv, const int nx) {
    const int32_t k = sh->k, cin = sh->cin, ps = sh->in_pstride;
    const int32_t up_shift = sh->up == 2; /* upsampled coordinate -> stored one */
    const uint32_t up_h = (uint32_t)(sh->in_h * sh->up), up_w = (uint32_t)(sh->in_w * sh->up);
    const int32_t ix0 = ox0 * sh->stride - sh->pad_left; /* first tap of pixel 0 */
    /* When a pixel's k taps along x are k adjacent dense pixels, all inside
     * the image, they form one run of k*cin floats that matches the packed
     * [kx][ci] order: one loop instead of k short ones (the win is for the
     * few-channel input layers). Same products in the same order. */
    const int contiguous = sh->dil == 1 && sh->up == 1 && ps == cin && ix0 >= 0 &&
                           ix0 + (nx - 1) * sh->stride + k <= sh->in_w;
    gi_vf acc[CONV_TILE_PIX][CONV_PANEL_VECS];
    GI_UNROLL
    for (int b = 0; b < nx; b++)
        GI_UNROLL
        for (int v = 0; v < nv; v++) acc[b][v] = scale ? vf_zero() : vf_load(panel + v * CONV_V);
    const float *w = panel + (size_t)nv * CONV_V;
    for (int32_t ky = 0; ky < k; ky++) {
        int32_t iy = oy * sh->stride - sh->pad_top + ky * sh->dil;
        if ((uint32_t)iy >= up_h) { /* the whole kernel row is padding */
            w += (size_t)k * cin * nv * CONV_V;
            continue;
        }
        const float *row = in + (size_t)(iy >> up_shift) * sh->in_w * ps;
        /* A run of taps: all k of the kernel row when contiguous, else one. */
        const int32_t runs = contiguous ? 1 : k, run_len = contiguous ? k * cin : cin;
        for (int32_t kx = 0; kx < runs; kx++) {
            const float *px[CONV_TILE_PIX];
            GI_UNROLL
            for (int b = 0; b < nx; b++) {
                int32_t ix = ix0 + b * sh->stride + kx * sh->dil;
                px[b] = (uint32_t)ix < up_w ? row + (size_t)(ix >> up_shift) * ps : zero;
            }
            /* The FMA core: one weight load per column and one broadcast per
             * pixel for each input value of the run. */
            for (int32_t j = 0; j < run_len; j++, w += nv * CONV_V) {
                gi_vf wv[CONV_PANEL_VECS];
                GI_UNROLL
                for (int v = 0; v < nv; v++) wv[v] = vf_load(w + v * CONV_V);
                GI_UNROLL
                for (int b = 0; b < nx; b++) {
                    const gi_vf x = vf_set1(px[b][j]);
                    GI_UNROLL
                    for (int v = 0; v < nv; v++) acc[b][v] = vf_fma(x, wv[v], acc[b][v]);
                }
            }
        }
    }
    /* Epilogue in registers. Gated layers have even cconv, so their columns
     * come in (feature, gate) pairs and only the feature half is stored. */
    float *o = out + ((size_t)oy * sh->out_w + ox0) * sh->out_pstride;
    const size_t ops = (size_t)sh->out_pstride;
    if (scale) {
        const float *srow = scale + (size_t)oy * sh->out_w + ox0;
        const gi_vf slope = vf_set1(0.2f);
        GI_UNROLL
        for (int b = 0; b < nx; b++)
            GI_UNROLL
            for (int v = 0; v < nv; v++) {
                gi_vf r = vf_fma(acc[b][v], vf_set1(srow[b]), vf_load(panel + v * CONV_V));
                if (sh->act == GI_ACT_RELU)
                    r = vf_relu(r);
                else if (sh->act == GI_ACT_LEAKY_RELU)
                    r = vf_max(r, vf_mul(r, slope)); /* x > 0 ? x : 0.2 x */
                conv_store_col(c, u0 + v, srow[b] != 0.0f ? r : vf_zero(), o + b * ops);
            }
    } else if (sh->act == GI_ACT_ELU_GATED || sh->act == GI_ACT_RELU_GATED) {
        const int elu = sh->act == GI_ACT_ELU_GATED;
        GI_UNROLL
        for (int b = 0; b < nx; b++)
            GI_UNROLL
            for (int q = 0; q < nv / 2; q++) {
                gi_vf f = elu ? vf_elu(acc[b][2 * q]) : vf_relu(acc[b][2 * q]);
                conv_store_col(c, u0 + 2 * q, vf_mul(f, vf_sigmoid(acc[b][2 * q + 1])),
                               o + b * ops);
            }
    } else {
        const int use_tanh = sh->act == GI_ACT_TANH;
        GI_UNROLL
        for (int b = 0; b < nx; b++)
            GI_UNROLL
            for (int v = 0; v < nv; v++)
                conv_store_col(c, u0 + v, use_tanh ? vf_tanh(acc[b][v]) : acc[b][v],
                               o + b * ops);
    }
}

/* One function per (columns, pixels) shape with both as constants, so the
 * accumulators of each are registers. Separate functions rather than one
 * switch over inlined calls: compilers merge such calls back into a single
 * one with variable shape. */
typedef void conv_tile_fn(const gi_conv_shape *sh, const conv_cols *c, int32_t u0,
                          const float *panel, const float *in, const float *zero,
                          const float *scale, float *out, int32_t oy, int32_t ox0);
#define CONV_TILE_DEF(NV, NX)                                                              \
    static __attribute__((noinline)) void conv_tile_##NV##v_##NX##px(                      \
        const gi_conv_shape *sh, const conv_cols *c, int32_t u0, const float *panel,       \
        const float *in, const float *zero, const float *scale, float *out, int32_t oy,    \
        int32_t ox0) {                                                                     \
        conv_tile(sh, c, u0, panel, in, zero, scale, out, oy, ox0, NV, NX);                \
    }
#define CONV_TILE_TABLE(NV)                                                                 \
    CONV_TILE_DEF(NV, 1) CONV_TILE_DEF(NV, 2) CONV_TILE_DEF(NV, 3)                          \
    CONV_TILE_DEF(NV, 4) CONV_TILE_DEF(NV, 5) CONV_TILE_DEF(NV, 6)                          \
    static conv_tile_fn *const conv_tiles_##NV##v[CONV_TILE_PIX] = {                       \
        conv_tile_##NV##v_1px, conv_tile_##NV##v_2px, conv_tile_##NV##v_3px,                \
        conv_tile_##NV##v_4px, conv_tile_##NV##v_5px, conv_tile_##NV##v_6px};
CONV_TILE_TABLE(1)
CONV_TILE_TABLE(2)
#if CONV_PANEL_VECS == 4
CONV_TILE_TABLE(4)
#endif

/* Tiles by pixel count for a panel of nv columns. */
static conv_tile_fn *const *conv_tiles_for(int32_t nv) {
#if CONV_PANEL_VECS == 4
    if (nv == 4) return conv_tiles_4v;
#endif
    return nv == 2 ? conv_tiles_2v : conv_tiles_1v;
}

static void conv_rows(const gi_conv_shape *sh, const float *in, const float *packed,
                      const float *scale, float *out, int32_t y0, int32_t y1,
                      float *scratch) {
    const conv_cols c = conv_cols_of(sh->cconv);
    const size_t panel_floats_per_vec = CONV_V * (1 + (size_t)sh->k * sh->k * sh->cin);
    memset(scratch, 0, (size_t)sh->cin * sizeof *scratch);
    /* Row outermost: the k input rows stay in L2 while every panel's weights
     * stream over them (the whole packed layer is at most ~1.3 MB). */
    for (int32_t oy = y0; oy < y1; oy++) {
        const float *panel = packed;
        for (int32_t u0 = 0, nv; u0 < c.nvec; u0 += nv, panel += nv * panel_floats_per_vec) {
            nv = conv_panel_vecs(&c, u0);
            conv_tile_fn *const *tiles = conv_tiles_for(nv);
            int32_t ox0 = 0;
            for (; ox0 + CONV_TILE_PIX <= sh->out_w; ox0 += CONV_TILE_PIX)
                tiles[CONV_TILE_PIX - 1](sh, &c, u0, panel, in, scratch, scale, out, oy, ox0);
            if (ox0 < sh->out_w)
                tiles[sh->out_w - ox0 - 1](sh, &c, u0, panel, in, scratch, scale, out, oy,
                                           ox0);
        }
    }
}

#endif
