#include "exif.h"

#include <string.h>

#include "../common/error.h"

#define EXIF_TAG_ORIENTATION 0x0112
#define TIFF_SHORT 3
#define TIFF_LONG 4

static uint32_t rd16(const uint8_t *p, int big) {
    return big ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int big) {
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The orientation entry (12 bytes) of IFD0 in a TIFF block, or NULL;
 * *big tells the byte order. */
static uint8_t *orientation_entry(const uint8_t *tiff, size_t size, int *big) {
    if (!tiff || size < 8) return NULL;
    if (memcmp(tiff, "II", 2) == 0)
        *big = 0;
    else if (memcmp(tiff, "MM", 2) == 0)
        *big = 1;
    else
        return NULL;
    if (rd16(tiff + 2, *big) != 42) return NULL;
    uint32_t ifd = rd32(tiff + 4, *big);
    if (ifd < 8 || ifd > size - 2) return NULL;
    /* Scan only the entries that lie wholly inside the block: a truncated
     * IFD still gives its leading tags. */
    size_t n = rd16(tiff + ifd, *big);
    size_t fit = (size - ifd - 2) / 12;
    if (n > fit) n = fit;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = tiff + ifd + 2 + 12 * i;
        if (rd16(e, *big) == EXIF_TAG_ORIENTATION) return (uint8_t *)e;
    }
    return NULL;
}

int gi_exif_orientation_tiff(const uint8_t *tiff, size_t size) {
    int big;
    const uint8_t *e = orientation_entry(tiff, size, &big);
    if (!e) return 1;
    uint32_t type = rd16(e + 2, big), count = rd32(e + 4, big);
    if (count != 1) return 1;
    /* The value sits left-justified in the 4-byte field. The standard
     * says SHORT; a few writers use LONG. */
    uint32_t v = type == TIFF_SHORT ? rd16(e + 8, big)
                 : type == TIFF_LONG ? rd32(e + 8, big)
                                     : 0;
    return v >= 1 && v <= 8 ? (int)v : 1;
}

void gi_exif_set_upright(uint8_t *tiff, size_t size) {
    int big;
    uint8_t *e = orientation_entry(tiff, size, &big);
    if (!e || rd32(e + 4, big) != 1) return;
    uint32_t type = rd16(e + 2, big);
    if (type != TIFF_SHORT && type != TIFF_LONG) return;
    memset(e + 8, 0, 4); /* 1, left-justified in either byte order and type */
    e[8 + (big ? (type == TIFF_SHORT ? 1 : 3) : 0)] = 1;
}

int gi_exif_orientation_app1(const uint8_t *data, size_t size) {
    static const uint8_t sig[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (!data || size < sizeof sig || memcmp(data, sig, sizeof sig) != 0) return 0;
    return gi_exif_orientation_tiff(data + sizeof sig, size - sizeof sig);
}

gi_status gi_exif_apply(gi_tensor **img, int orientation) {
    if (orientation < 2 || orientation > 8) return GI_OK;
    const gi_tensor *in = *img;
    /* c: bytes per pixel, whatever the dtype */
    const ptrdiff_t c = (ptrdiff_t)((size_t)in->c * gi_dtype_size(in->dtype));
    const ptrdiff_t s = (ptrdiff_t)in->row_stride;
    const ptrdiff_t w1 = in->w - 1, h1 = in->h - 1;
    int swap = orientation >= 5;
    gi_tensor *out;
    gi_status st = gi_tensor_create(in->dtype, swap ? in->w : in->h, swap ? in->h : in->w,
                                    in->c, &out);
    if (st) return st;

    /* Output pixel (ox, oy) reads input byte offset start + oy*dy + ox*dx. */
    ptrdiff_t start, dx, dy;
    switch (orientation) {
    case 2: start = w1 * c;         dx = -c; dy = s;  break; /* mirror */
    case 3: start = h1 * s + w1 * c; dx = -c; dy = -s; break; /* 180 */
    case 4: start = h1 * s;         dx = c;  dy = -s; break; /* flip */
    case 5: start = 0;              dx = s;  dy = c;  break; /* transpose */
    case 6: start = h1 * s;         dx = -s; dy = c;  break; /* 90 cw */
    case 7: start = h1 * s + w1 * c; dx = -s; dy = -c; break; /* transverse */
    default: start = w1 * c;        dx = s;  dy = -c; break; /* 8: 90 ccw */
    }

    /* Tiles keep the column walks of the transposing cases in cache. */
    enum { TILE = 64 };
    for (int32_t ty = 0; ty < out->h; ty += TILE) {
        int32_t ey = ty + TILE < out->h ? ty + TILE : out->h;
        for (int32_t tx = 0; tx < out->w; tx += TILE) {
            int32_t ex = tx + TILE < out->w ? tx + TILE : out->w;
            for (int32_t oy = ty; oy < ey; oy++) {
                uint8_t *dst = (uint8_t *)gi_tensor_row(out, oy) + (size_t)tx * (size_t)c;
                ptrdiff_t off = start + oy * dy + tx * dx;
                for (int32_t ox = tx; ox < ex; ox++, dst += c, off += dx)
                    memcpy(dst, in->data + off, (size_t)c);
            }
        }
    }
    gi_tensor_destroy(*img);
    *img = out;
    return GI_OK;
}
