/* The session object behind the opaque gi_session handle. */
#ifndef GI_SESSION_H
#define GI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernels.h"
#include "../model/model.h"
#include "gatedinpaint.h"

/* Test hook (not in the public API): when set, gi_inpaint() also returns
 * the network's stage outputs. Buffers are malloc'ed by gi_inpaint()
 * (net_h * net_w * 3 floats, HWC, the model's channel order, tanh outputs
 * in [-1, 1]) and belong to the caller, who frees them. */
typedef struct gi_debug_taps {
    int32_t net_h, net_w; /* padded network size (multiples of 8) */
    float *x_stage1;
    float *x_stage2;
} gi_debug_taps;

struct gi_session {
    gi_model *model;
    int32_t num_threads; /* resolved: >= 1 */
    int32_t max_isa;     /* GI_OPT_MAX_ISA as set */
    const gi_kernels *kernels;
    gi_progress_fn progress;
    void *progress_user;
    gi_debug_taps *taps;

    /* scratch arena, reused between calls */
    void *scratch;
    size_t scratch_size;
};

void gi_session_set_debug_taps(gi_session *s, gi_debug_taps *taps);

/* Grow the scratch arena to at least `size` bytes (64-byte aligned). */
gi_status gi_session_reserve(gi_session *s, size_t size);

/* Number of OpenMP threads to use for this session. */
static inline int gi_session_threads(const gi_session *s) { return s->num_threads; }

#endif
