/* DeepFill v2 contextual attention (docs/DEEPFILL_V2.md section 4). */
#ifndef GI_ATTENTION_H
#define GI_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernels.h"
#include "gatedinpaint.h"

typedef struct gi_attention_args {
    const gi_kernels *k;
    int nthreads;
    int32_t h, w, c;      /* feature map, h and w even */
    const float *f;       /* h*w*c HWC, foreground = background */
    const float *mask;    /* h*w, 1 = hole; NULL = no hole */
    int fuse;             /* official 3x3 score fusion */
    float softmax_scale;
    float *y;             /* h*w*c output */
    size_t budget_bytes;  /* cap on the score buffers (0 = default) */
    const uint8_t *queries; /* (h/2)*(w/2): 1 = compute this query position;
                               NULL = all. Output pixels pasted only by
                               skipped queries are left incomplete. */
    /* Optional contextual residual aggregation (after Yi et al., CVPR 2020):
     * the attention also pastes a second map, `aux` (aux_c channels,
     * aux_scale pixels for each feature pixel, aux_h x aux_w, zero beyond),
     * into aux_y (same shape, overwritten), for the queries whose 4x4 paste
     * footprint touches the hole: each such query copies the aux patch of
     * its highest-weighted background patch (if that weight reaches
     * GI_AUX_MIN_WEIGHT) through a Bartlett window. NULL = none. */
    const float *aux;
    int32_t aux_h, aux_w, aux_c, aux_scale;
    float *aux_y;
} gi_attention_args;

#define GI_AUX_MIN_WEIGHT 1e-3f

/* TF 1.x resize_nearest_neighbor index rule with align_corners=True
 * (reference 4.2): idx[i] = source index of output i, for i < out. */
void gi_tf_nn_index(int32_t in, int32_t out, int32_t *idx);

/* Bytes of workspace gi_attention_run() needs for these arguments. */
size_t gi_attention_workspace(const gi_attention_args *a);

/* Run with `ws` of at least gi_attention_workspace() bytes, 64-byte aligned. */
void gi_attention_run(const gi_attention_args *a, void *ws);

#endif
