/* The one mask rule (include/gatedinpaint.h, "The mask rule"), shared by
 * gi_inpaint, the mask helpers and everything built on them. */
#ifndef GI_MASK_RULE_H
#define GI_MASK_RULE_H

#include <stdint.h>

#include "tensor.h"

/* The value above which a pixel of a 1-channel U8 mask is a hole: 0 when
 * the largest value is 1 (a 0/1 mask), else 127. */
uint8_t gi_mask_threshold(const gi_tensor *mask);

/* A new 1-channel tensor of 0 (keep) and 255 (hole) from `mask` by the rule. */
gi_status gi_mask_binarize(const gi_tensor *mask, gi_tensor **out);

#endif
