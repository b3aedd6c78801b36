/* Kernel-level operations on tensors (public gi_op_* functions). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../graph/attention.h"
#include "../graph/conv.h"
#include "../common/alloc.h"
#include "../common/error.h"
#include "../common/tensor.h"
#include "session.h"

/* Feature maps must be dense F32 (pixel stride = channels) for the kernels. */
static gi_status check_f32(const char *fn, const char *what, const gi_tensor *t) {
    if (!t) return gi_fail(GI_E_INVALID_ARG, "%s: %s is NULL", fn, what);
    if (t->dtype != GI_DTYPE_F32)
        return gi_fail(GI_E_SHAPE, "%s: %s must be GI_DTYPE_F32", fn, what);
    if (t->row_stride != (size_t)t->w * t->c * sizeof(float))
        return gi_fail(GI_E_SHAPE, "%s: %s rows must be contiguous (row stride %zu, expected %zu)",
                       fn, what, t->row_stride, (size_t)t->w * t->c * sizeof(float));
    return GI_OK;
}

gi_status gi_op_gated_conv2d(gi_session *s, const gi_tensor *input, const float *weight,
                             const float *bias, int32_t cconv, int32_t kernel, int32_t stride,
                             int32_t dilation, int32_t act, int32_t upsample2x,
                             gi_tensor *output) {
    static const char fn[] = "gi_op_gated_conv2d";
    if (!s) return gi_fail(GI_E_INVALID_ARG, "%s: session is NULL", fn);
    gi_status st = check_f32(fn, "input", input);
    if (!st) st = check_f32(fn, "output", output);
    if (st) return st;
    if (!weight || !bias) return gi_fail(GI_E_INVALID_ARG, "%s: weight or bias is NULL", fn);
    if (cconv < 1 || kernel < 1 || kernel > 15 || stride < 1 || stride > 8 || dilation < 1 ||
        dilation > 64 || (upsample2x != 0 && upsample2x != 1))
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: cconv=%d kernel=%d stride=%d dilation=%d upsample2x=%d out of range",
                       fn, (int)cconv, (int)kernel, (int)stride, (int)dilation, (int)upsample2x);
    int gated = act == GI_ACT_ELU_GATED || act == GI_ACT_RELU_GATED;
    if (!gated && act != GI_ACT_NONE && act != GI_ACT_TANH)
        return gi_fail(GI_E_INVALID_ARG, "%s: unknown activation %d", fn, (int)act);
    if (gated && cconv % 2)
        return gi_fail(GI_E_INVALID_ARG, "%s: gated activation needs an even cconv, got %d", fn,
                       (int)cconv);
    st = gi_session_check_pixels(s, fn, "input", input->h, input->w);
    if (!st) st = gi_session_check_pixels(s, fn, "output", output->h, output->w);
    if (st) return st;
    gi_conv_shape sh;
    int32_t up = upsample2x ? 2 : 1;
    int64_t eh = (int64_t)input->h * up, ew = (int64_t)input->w * up;
    if (eh > INT32_MAX || ew > INT32_MAX)
        return gi_fail(GI_E_UNSUPPORTED, "%s: the upsampled input (%lldx%lld) is too large", fn,
                       (long long)ew, (long long)eh);
    gi_conv_shape_same(&sh, input->h, input->w, input->c, input->c, up, kernel, stride, dilation,
                       cconv, gated ? cconv / 2 : cconv, gated ? cconv / 2 : cconv, act);
    if (output->h != sh.out_h || output->w != sh.out_w || output->c != sh.cout)
        return gi_fail(GI_E_SHAPE, "%s: output is %dx%dx%d, expected %dx%dx%d (h x w x c)", fn,
                       (int)output->h, (int)output->w, (int)output->c, (int)sh.out_h,
                       (int)sh.out_w, (int)sh.cout);

    const gi_kernels *k = s->kernels;
    int nt = s->num_threads;
    size_t npack = k->conv_packed_size(cconv, sh.cin, kernel);
    size_t nscr = k->conv_scratch_size(&sh);
    st = gi_arena_check(&s->arena, fn, (npack + nscr * (size_t)nt) * sizeof(float));
    if (st) return st;
    float *packed = gi_malloc(npack * sizeof(float));
    float *scratch = gi_malloc(nscr * sizeof(float) * (size_t)nt);
    if (!packed || !scratch) {
        free(packed);
        free(scratch);
        return gi_fail(GI_E_NOMEM, "%s: out of memory", fn);
    }
    k->conv_pack(weight, bias, cconv, sh.cin, kernel, packed);
    gi_conv_run(k, nt, &sh, (const float *)input->data, packed, (float *)output->data, scratch,
                nscr);
    free(packed);
    free(scratch);
    return GI_OK;
}

gi_status gi_op_contextual_attention(gi_session *s, const gi_tensor *features,
                                     const gi_tensor *mask, int32_t fuse, float softmax_scale,
                                     gi_tensor *output) {
    static const char fn[] = "gi_op_contextual_attention";
    if (!s) return gi_fail(GI_E_INVALID_ARG, "%s: session is NULL", fn);
    gi_status st = check_f32(fn, "features", features);
    if (!st) st = check_f32(fn, "output", output);
    if (!st && mask) st = check_f32(fn, "mask", mask);
    if (st) return st;
    if (features->h % 2 || features->w % 2)
        return gi_fail(GI_E_SHAPE, "%s: features are %dx%d, both sides must be even", fn,
                       (int)features->h, (int)features->w);
    if (output->h != features->h || output->w != features->w || output->c != features->c)
        return gi_fail(GI_E_SHAPE, "%s: output is %dx%dx%d, features are %dx%dx%d", fn,
                       (int)output->h, (int)output->w, (int)output->c, (int)features->h,
                       (int)features->w, (int)features->c);
    if (mask && (mask->h != features->h || mask->w != features->w || mask->c != 1))
        return gi_fail(GI_E_SHAPE, "%s: mask is %dx%dx%d, expected %dx%dx1", fn, (int)mask->h,
                       (int)mask->w, (int)mask->c, (int)features->h, (int)features->w);
    if (!(softmax_scale > 0.0f && softmax_scale < 1e6f))
        return gi_fail(GI_E_INVALID_ARG, "%s: softmax_scale must be positive and finite", fn);
    if (output->data == features->data)
        return gi_fail(GI_E_INVALID_ARG, "%s: output must not be the features tensor", fn);
    st = gi_session_check_pixels(s, fn, "features", features->h, features->w);
    if (st) return st;
    gi_attention_args a = {s->kernels, s->num_threads, features->h, features->w, features->c,
                           (const float *)features->data,
                           mask ? (const float *)mask->data : NULL, fuse ? 1 : 0,
                           softmax_scale, (float *)output->data, 0, NULL,
                           NULL, 0, 0, 0, 0, NULL};
    size_t need = gi_attention_workspace(&a);
    st = gi_arena_check(&s->arena, fn, need);
    if (st) return st;
    void *ws = gi_aligned_alloc(64, (need + 63) & ~(size_t)63);
    if (!ws) return gi_fail(GI_E_NOMEM, "%s: cannot allocate %zu MB", fn, need >> 20);
    gi_attention_run(&a, ws);
    free(ws);
    return GI_OK;
}
