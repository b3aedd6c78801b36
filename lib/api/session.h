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
    int64_t max_pixels; /* GI_OPT_MAX_PIXELS resolved: >= 1 */
    uint64_t mem_limit; /* GI_OPT_MEM_LIMIT, 0 = none */

    /* scratch arena, reused between calls */
    void *scratch;
    size_t scratch_size;
};

void gi_session_set_debug_taps(gi_session *s, gi_debug_taps *taps);

/* Grow the scratch arena to at least `size` bytes (64-byte aligned).
 * Refuses (GI_E_NOMEM) sizes over the session's memory limit. */
gi_status gi_session_reserve(gi_session *s, size_t size);

/* GI_OPT_MAX_PIXELS: the library's ceiling and the default. */
#define GI_MAX_PIXELS_CEILING ((int64_t)1 << 32)
#define GI_MAX_PIXELS_DEFAULT ((int64_t)1 << 26)

/* GI_E_UNSUPPORTED with "fn: what is WxH = N pixels, more than
 * GI_OPT_MAX_PIXELS = M" when h * w exceeds the session's pixel limit. */
gi_status gi_session_check_pixels(const gi_session *s, const char *fn, const char *what,
                                  int64_t h, int64_t w);
/* GI_E_NOMEM with a message giving both figures when `bytes` of working
 * memory exceed the session's GI_OPT_MEM_LIMIT. */
gi_status gi_session_check_mem(const gi_session *s, const char *fn, size_t bytes);

/* Number of OpenMP threads to use for this session. */
static inline int gi_session_threads(const gi_session *s) { return s->num_threads; }

#endif
