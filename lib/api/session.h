/* The session object behind the opaque gi_session handle. */
#ifndef GI_SESSION_H
#define GI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../common/arena.h"
#include "../graph/exec.h"
#include "../kernels/kernels.h"
#include "../model/model.h"
#include "gatedinpaint.h"

struct gi_session {
    gi_model *model;
    int32_t num_threads; /* resolved: >= 1 */
    int32_t max_isa;     /* GI_OPT_MAX_ISA as set */
    const gi_kernels *kernels;
    gi_progress_fn progress;
    void *progress_user;
    gi_map_observer_fn observe;
    void *observe_user;
    gi_debug_taps *taps;
    int64_t max_pixels; /* GI_OPT_MAX_PIXELS resolved: >= 1 */
    int32_t strategy;   /* GI_STRATEGY_* */
    int32_t last_regions, last_scale; /* GI_OPT_LAST_* */

    /* scratch arena, reused between calls; its limit is GI_OPT_MEM_LIMIT */
    gi_arena arena;
};

/* Test hook: gi_inpaint() also returns the stage outputs (lib/graph/exec.h). */
void gi_session_set_debug_taps(gi_session *s, gi_debug_taps *taps);

/* The execution context of one call on this session. */
gi_exec gi_session_exec(gi_session *s);

/* GI_OPT_MAX_PIXELS: the library's ceiling and the default. */
#define GI_MAX_PIXELS_CEILING ((int64_t)1 << 32)
#define GI_MAX_PIXELS_DEFAULT ((int64_t)1 << 26)

/* GI_E_UNSUPPORTED with "fn: what is WxH = N pixels, more than
 * GI_OPT_MAX_PIXELS = M" when h * w exceeds the session's pixel limit. */
gi_status gi_session_check_pixels(const gi_session *s, const char *fn, const char *what,
                                  int64_t h, int64_t w);

#endif
