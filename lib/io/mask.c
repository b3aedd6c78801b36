/* gi_image_to_mask: the mask conventions users bring (painted alpha, white
 * strokes on black, coloured strokes) reduced to one channel. */
#include <stdbool.h>

#include "../common/error.h"
#include "../common/tensor.h"

/* True when channel `ch` holds the same value in every pixel. */
static bool channel_uniform(const gi_tensor *t, int32_t ch) {
    const uint8_t first = ((const uint8_t *)gi_tensor_row(t, 0))[ch];
    for (int32_t y = 0; y < t->h; y++) {
        const uint8_t *p = (const uint8_t *)gi_tensor_row(t, y) + ch;
        for (int32_t x = 0; x < t->w; x++, p += t->c)
            if (*p != first) return false;
    }
    return true;
}

gi_status gi_image_to_mask(const gi_tensor *image, gi_tensor **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_image_to_mask: out is NULL");
    *out = NULL;
    if (!image) return gi_fail(GI_E_INVALID_ARG, "gi_image_to_mask: image is NULL");
    if (image->dtype != GI_DTYPE_U8)
        return gi_fail(GI_E_INVALID_ARG, "gi_image_to_mask: image dtype is %d, not GI_DTYPE_U8",
                       (int)image->dtype);
    const int32_t c = image->c;
    if (c < 1 || c > 4)
        return gi_fail(GI_E_INVALID_ARG,
                       "gi_image_to_mask: image has %d channels, expected 1 to 4", (int)c);

    gi_tensor *m;
    gi_status st = gi_tensor_create(GI_DTYPE_U8, image->h, image->w, 1, &m);
    if (st) {
        gi_error_prefix("gi_image_to_mask");
        return st;
    }
    /* A uniform alpha (an opaque RGBA export of a black/white mask) carries
     * no mask; then the colours do. Gray+alpha counts its one colour. */
    const bool use_alpha = (c == 2 || c == 4) && !channel_uniform(image, c - 1);
    const int32_t colours = c == 1 || c == 2 ? 1 : 3;
    for (int32_t y = 0; y < image->h; y++) {
        const uint8_t *p = gi_tensor_row(image, y);
        uint8_t *q = gi_tensor_row(m, y);
        for (int32_t x = 0; x < image->w; x++, p += c) {
            uint8_t v = p[0];
            if (use_alpha) {
                v = p[c - 1];
            } else {
                for (int32_t k = 1; k < colours; k++)
                    if (p[k] > v) v = p[k];
            }
            q[x] = v;
        }
    }
    *out = m;
    return GI_OK;
}
