#include "pixels.h"

#include <stdbool.h>

#include "error.h"

gi_status gi_convert_pixels(const gi_tensor *in, int32_t dtype, int32_t channels,
                            gi_tensor **out) {
    const int32_t have = in->c, want = channels ? channels : in->c;
    gi_tensor *t;
    gi_status st = gi_tensor_create(dtype, in->h, in->w, want, &t);
    if (st) return st;
    const bool gray = have <= 2, alpha = have == 2 || have == 4;
    const bool down = in->dtype == GI_DTYPE_U16 && dtype == GI_DTYPE_U8;
    const bool up = in->dtype == GI_DTYPE_U8 && dtype == GI_DTYPE_U16;
    const uint32_t opaque = dtype == GI_DTYPE_U16 ? 65535u : 255u;
    for (int32_t y = 0; y < in->h; y++) {
        const void *p = gi_tensor_row(in, y);
        void *q = gi_tensor_row(t, y);
        for (int32_t x = 0; x < in->w; x++) {
            const size_t i = (size_t)x * (size_t)have, o = (size_t)x * (size_t)want;
            uint32_t v[4] = {0, 0, 0, 0};
            for (int32_t k = 0; k < have; k++) {
                v[k] = gi_sample_get(p, in->dtype, i + (size_t)k);
                v[k] = down ? gi_u16_to_u8(v[k]) : up ? gi_u8_to_u16(v[k]) : v[k];
            }
            const uint32_t r = v[0], g = v[gray ? 0 : 1], b = v[gray ? 0 : 2];
            const uint32_t a = alpha ? v[have - 1] : opaque;
            if (want <= 2) {
                gi_sample_put(q, dtype, o, gray ? r : gi_luma(r, g, b));
            } else {
                gi_sample_put(q, dtype, o, r);
                gi_sample_put(q, dtype, o + 1, g);
                gi_sample_put(q, dtype, o + 2, b);
            }
            if (want == 2 || want == 4) gi_sample_put(q, dtype, o + (size_t)want - 1, a);
        }
    }
    *out = t;
    return GI_OK;
}

void gi_put_rgb8(void *px, int32_t dtype, int32_t c, const uint8_t rgb[3]) {
    uint32_t v[3] = {rgb[0], rgb[1], rgb[2]};
    if (c <= 2) v[0] = gi_luma(v[0], v[1], v[2]);
    const int32_t n = c <= 2 ? 1 : 3;
    for (int32_t k = 0; k < n; k++)
        gi_sample_put(px, dtype, (size_t)k, dtype == GI_DTYPE_U16 ? gi_u8_to_u16(v[k]) : v[k]);
}
