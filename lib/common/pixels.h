/* Pixel conversions shared by the decoders and the runner: grey and RGB,
 * 8 and 16 bits (GI_DTYPE_U8, GI_DTYPE_U16). */
#ifndef GI_PIXELS_H
#define GI_PIXELS_H

#include <stdint.h>

#include "tensor.h"

/* ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B with weights in 1/65536
 * (their sum is 65536: a grey pixel keeps its value). Any scale < 2^16. */
static inline uint32_t gi_luma(uint32_t r, uint32_t g, uint32_t b) {
    return (uint32_t)((19595u * (uint64_t)r + 38470u * (uint64_t)g + 7471u * (uint64_t)b +
                       32768u) >> 16);
}

/* 16 bits to 8, rounded (v * 255 / 65535); and back, exactly (v * 257). */
static inline uint8_t gi_u16_to_u8(uint32_t v) { return (uint8_t)((v + 128u) / 257u); }
static inline uint16_t gi_u8_to_u16(uint32_t v) { return (uint16_t)(v * 257u); }

/* Sample i of a U8 or U16 row. */
static inline uint32_t gi_sample_get(const void *row, int32_t dtype, size_t i) {
    return dtype == GI_DTYPE_U16 ? ((const uint16_t *)row)[i] : ((const uint8_t *)row)[i];
}

static inline void gi_sample_put(void *row, int32_t dtype, size_t i, uint32_t v) {
    if (dtype == GI_DTYPE_U16)
        ((uint16_t *)row)[i] = (uint16_t)v;
    else
        ((uint8_t *)row)[i] = (uint8_t)v;
}

/* A new tensor of `dtype` (U8 or U16) with `channels` (1, 3 or 4; 0 keeps
 * the count) from `in` (U8 or U16, 1 to 4 channels: grey, grey+alpha, RGB,
 * RGBA): grey is replicated, colour becomes luma, missing alpha is opaque,
 * samples are rescaled. */
gi_status gi_convert_pixels(const gi_tensor *in, int32_t dtype, int32_t channels,
                            gi_tensor **out);

/* Write an 8-bit RGB colour into pixel `px` of a `dtype` tensor with `c`
 * channels: luma for grey, x257 for 16 bits; an alpha sample is untouched. */
void gi_put_rgb8(void *px, int32_t dtype, int32_t c, const uint8_t rgb[3]);

#endif
