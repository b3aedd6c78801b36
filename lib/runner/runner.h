/* The runner: between gi_inpaint and a network family. It owns what every
 * family shares: the hole and guide thresholds, padding to the family's
 * size multiple, the arena, and compositing (known pixels copied exactly).
 * Processing strategies (per-region crops, rescaling) belong here. */
#ifndef GI_RUNNER_H
#define GI_RUNNER_H

#include "../common/tensor.h"
#include "../graph/exec.h"
#include "../model/model.h"

#define GI_HOLE_THRESHOLD 127 /* mask value > 127 = hole, once a 0/1 mask is 0/255 */
#define GI_EDGE_THRESHOLD 153 /* guide value > 153 (0.6 * 255) = edge */

/* What the last call did (GI_OPT_LAST_REGIONS, GI_OPT_LAST_SCALE). */
typedef struct gi_run_stats {
    int32_t regions;   /* network passes */
    int32_t max_scale; /* largest downscale factor, 1 = full resolution */
} gi_run_stats;

/* Inpaint `image` (U8 or U16, 1 to 4 channels) where `mask` (U8, 1 channel,
 * the mask rule of gatedinpaint.h) is a hole, into `out` (same dtype and
 * shape; may be `image`), with a GI_STRATEGY_*. The
 * caller has checked shapes and the model's guide support. Working memory
 * comes from ex->arena; `out` is written only when the call succeeds. */
gi_status gi_run_inpaint(const gi_model *m, gi_exec *ex, int32_t strategy,
                         const gi_tensor *image, const gi_tensor *mask, const gi_tensor *guide,
                         gi_tensor *out, gi_run_stats *stats);

#endif
