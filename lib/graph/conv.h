/* One convolution layer, shared by the graph and gi_op_gated_conv2d: its TF
 * 'SAME' geometry and its run across threads; and the partial convolution's
 * renormalisation (Liu et al. 2018). */
#ifndef GI_GRAPH_CONV_H
#define GI_GRAPH_CONV_H

#include <stdint.h>

#include "../kernels/kernels.h"

/* Geometry of a convolution with TF 'SAME' padding (pad_total =
 * max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0), the smaller half top/left) on
 * an in_h x in_w input, upsampled x`up` first. The caller keeps the
 * upsampled sizes below 2^31. */
void gi_conv_shape_same(gi_conv_shape *sh, int32_t in_h, int32_t in_w, int32_t cin,
                        int32_t in_pstride, int32_t up, int32_t k, int32_t stride,
                        int32_t dil, int32_t cconv, int32_t cout, int32_t out_pstride,
                        int32_t act);

/* Output rows split across nt threads, each with `scratch_floats` of
 * `scratch` and denormals flushed (lib/cpu/fpu.h). */
void gi_conv_run(const gi_kernels *k, int nt, const gi_conv_shape *sh, const float *in,
                 const float *packed, float *out, float *scratch, size_t scratch_floats);

/* Partial convolution: gi_conv_run with its per-output-pixel scale
 * (kernels->conv_rows), over output rows [y0, y1) only. */
void gi_pconv_run(const gi_kernels *k, int nt, const gi_conv_shape *sh, const float *in,
                  const float *packed, const float *scale, float *out, int32_t y0,
                  int32_t y1, float *scratch, size_t scratch_floats);

/* The partial convolution's renormalisation for geometry sh (up = 1):
 * valid[p] is the number of valid input values at input pixel p (the
 * channel count of each source whose mask is 1 there, so a multi-channel
 * mask is never built); scale[q] = 1 / (sum of valid[] over output pixel
 * q's window) or 0 for an empty window, and mask_out[q] = scale[q] != 0:
 * the window has any valid input. */
void gi_pconv_scale(const gi_conv_shape *sh, const int32_t *valid, float *scale,
                    uint8_t *mask_out);

#endif
