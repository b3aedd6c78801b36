/* Where to run the network when the strategy is GI_STRATEGY_REGIONS: the
 * holes grouped into regions, each with a context window sized from its
 * holes and a downscale factor that brings it to the model's working size. */
#ifndef GI_REGIONS_H
#define GI_REGIONS_H

#include <stdint.h>

#include "../common/tensor.h"
#include "gatedinpaint.h"

typedef struct gi_region {
    int32_t x0, y0, x1, y1; /* context window [x0, x1) x [y0, y1), full resolution */
    int32_t k;              /* the network sees the window shrunk k times (k >= 1) */
    int32_t hx0, hy0, hx1, hy1; /* bounding box of the region's hole pixels */
} gi_region;

/* Hole cells are this many pixels square: the planner's unit. */
#define GI_REGION_CELL 8

/* Group the hole pixels of `mask` (> threshold) into regions whose windows
 * do not overlap. `working` is the side the network fills best at (model
 * metadata). On success *out (gi_malloc'ed, caller frees) holds *n regions;
 * *n = 0 for an empty mask. Planning memory is about 13 bytes per cell. */
gi_status gi_plan_regions(const gi_tensor *mask, int32_t threshold, int32_t working,
                          gi_region **out, int32_t *n);

#endif
