#include "mask_rule.h"

uint8_t gi_mask_threshold(const gi_tensor *mask) {
    uint8_t max = 0;
    for (int32_t y = 0; y < mask->h && max <= 1; y++) {
        const uint8_t *p = gi_tensor_row(mask, y);
        for (int32_t x = 0; x < mask->w; x++)
            if (p[x] > max) max = p[x];
    }
    return max == 1 ? 0 : 127;
}

gi_status gi_mask_binarize(const gi_tensor *mask, gi_tensor **out) {
    const uint8_t threshold = gi_mask_threshold(mask);
    gi_tensor *m;
    gi_status st = gi_tensor_create(GI_DTYPE_U8, mask->h, mask->w, 1, &m);
    if (st) return st;
    for (int32_t y = 0; y < mask->h; y++) {
        const uint8_t *p = gi_tensor_row(mask, y);
        uint8_t *q = gi_tensor_row(m, y);
        for (int32_t x = 0; x < mask->w; x++) q[x] = p[x] > threshold ? 255 : 0;
    }
    *out = m;
    return GI_OK;
}
