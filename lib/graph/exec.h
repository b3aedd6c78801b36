/* The execution context of one forward pass: everything the graph needs
 * from its caller (kernel table, threads, progress and cancellation, the
 * scratch arena, test taps), so that the graph never sees a session. */
#ifndef GI_EXEC_H
#define GI_EXEC_H

#include <stdint.h>

#include "../common/arena.h"
#include "../kernels/kernels.h"
#include "gatedinpaint.h"

/* Test hook (not in the public API): when set, a forward pass also returns
 * the network's stage outputs. Buffers are malloc'ed by the family
 * (net_h * net_w * 3 floats, HWC, the model's channel order, tanh outputs
 * in [-1, 1]) and belong to the caller, who frees them. */
typedef struct gi_debug_taps {
    int32_t net_h, net_w; /* padded network size */
    float *x_stage1;
    float *x_stage2;
} gi_debug_taps;

typedef struct gi_exec {
    const gi_kernels *kernels;
    int32_t num_threads; /* >= 1 */
    gi_progress_fn progress;
    void *progress_user;
    /* Progress reported as span_start + done * span_len, so that a caller
     * running several passes (regions) reports one rising figure. */
    float span_start, span_len;
    gi_debug_taps *taps; /* NULL unless a test asks */
    gi_arena *arena;
    /* The gate viewer (gi_session_set_map_observer): NULL, or called with
     * maps; pass numbers the network passes of one call. */
    gi_map_observer_fn observe;
    void *observe_user;
    int32_t pass;
} gi_exec;

/* Call the progress callback with `done` in [0, 1] of the current pass;
 * GI_E_CANCELLED (message set) if it asks to stop. */
gi_status gi_exec_report(const gi_exec *ex, float done, const char *stage);

/* Hand one map to the observer (info's pass is filled in here);
 * GI_E_CANCELLED (message set) if it asks to stop. */
gi_status gi_exec_observe(const gi_exec *ex, gi_map_info *info, const float *data);

#endif
