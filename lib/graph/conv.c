#include "conv.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../cpu/fpu.h"

void gi_conv_shape_same(gi_conv_shape *sh, int32_t in_h, int32_t in_w, int32_t cin,
                        int32_t in_pstride, int32_t up, int32_t k, int32_t stride,
                        int32_t dil, int32_t cconv, int32_t cout, int32_t out_pstride,
                        int32_t act) {
    int64_t eh = (int64_t)in_h * up, ew = (int64_t)in_w * up;
    int64_t keff = (int64_t)(k - 1) * dil + 1;
    sh->in_h = in_h;
    sh->in_w = in_w;
    sh->cin = cin;
    sh->in_pstride = in_pstride;
    sh->up = up;
    sh->k = k;
    sh->stride = stride;
    sh->dil = dil;
    sh->out_h = (int32_t)((eh + stride - 1) / stride);
    sh->out_w = (int32_t)((ew + stride - 1) / stride);
    int64_t ph = (int64_t)(sh->out_h - 1) * stride + keff - eh;
    int64_t pw = (int64_t)(sh->out_w - 1) * stride + keff - ew;
    sh->pad_top = ph > 0 ? (int32_t)(ph / 2) : 0;
    sh->pad_left = pw > 0 ? (int32_t)(pw / 2) : 0;
    sh->cconv = cconv;
    sh->cout = cout;
    sh->out_pstride = out_pstride;
    sh->act = act;
}

/* Rows [y_begin, y_end) split across threads; scale: NULL for an ordinary
 * convolution. */
static void run_rows(const gi_kernels *k, int nt, const gi_conv_shape *sh, const float *in,
                     const float *packed, const float *scale, float *out, int32_t y_begin,
                     int32_t y_end, float *scratch, size_t scratch_floats) {
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
#else
    (void)nt;
    {
        int t = 0, n = 1;
#endif
        int32_t rows = y_end - y_begin;
        int32_t y0 = y_begin + (int32_t)((int64_t)rows * t / n);
        int32_t y1 = y_begin + (int32_t)((int64_t)rows * (t + 1) / n);
        float *s = scratch + (size_t)t * scratch_floats;
        gi_fpu fpu = gi_fpu_enter();
        if (y1 > y0) k->conv_rows(sh, in, packed, scale, out, y0, y1, s);
        gi_fpu_leave(fpu);
    }
}

void gi_conv_run(const gi_kernels *k, int nt, const gi_conv_shape *sh, const float *in,
                 const float *packed, float *out, float *scratch, size_t scratch_floats) {
    run_rows(k, nt, sh, in, packed, NULL, out, 0, sh->out_h, scratch, scratch_floats);
}

void gi_pconv_run(const gi_kernels *k, int nt, const gi_conv_shape *sh, const float *in,
                  const float *packed, const float *scale, float *out, int32_t y0,
                  int32_t y1, float *scratch, size_t scratch_floats) {
    run_rows(k, nt, sh, in, packed, scale, out, y0, y1, scratch, scratch_floats);
}

void gi_pconv_scale(const gi_conv_shape *sh, const int32_t *valid, float *scale,
                    uint8_t *mask_out) {
    for (int32_t oy = 0; oy < sh->out_h; oy++)
        for (int32_t ox = 0; ox < sh->out_w; ox++) {
            int64_t sum = 0;
            for (int32_t ky = 0; ky < sh->k; ky++) {
                int32_t iy = oy * sh->stride - sh->pad_top + ky * sh->dil;
                if (iy < 0 || iy >= sh->in_h) continue; /* padding: a hole */
                const int32_t *row = valid + (size_t)iy * sh->in_w;
                for (int32_t kx = 0; kx < sh->k; kx++) {
                    int32_t ix = ox * sh->stride - sh->pad_left + kx * sh->dil;
                    if (ix >= 0 && ix < sh->in_w) sum += row[ix];
                }
            }
            size_t q = (size_t)oy * sh->out_w + ox;
            scale[q] = sum ? 1.0f / (float)sum : 0.0f;
            mask_out[q] = sum != 0;
        }
}
