/* EXIF orientation: read the tag, turn the decoded image upright. */
#ifndef GI_EXIF_H
#define GI_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include "../common/tensor.h"

/* Orientation (1..8) from a TIFF block as found in a PNG eXIf chunk
 * ("II*\0" or "MM\0*" header, IFD0 searched for tag 0x0112). Returns 1
 * (upright) when the tag is absent, out of range or the block is malformed:
 * a broken EXIF block must never make an image unreadable. */
int gi_exif_orientation_tiff(const uint8_t *tiff, size_t size);

/* As above for a JPEG APP1 payload, which starts with "Exif\0\0". Any other
 * APP1 (XMP, ...) yields 0, so callers can tell "not EXIF" from "upright". */
int gi_exif_orientation_app1(const uint8_t *data, size_t size);

/* Set the orientation tag of a TIFF block to 1 (upright), in place, when
 * it has one; anything malformed is left alone. */
void gi_exif_set_upright(uint8_t *tiff, size_t size);

/* Make `*img` (GI_DTYPE_U8 or U16) upright according to `orientation`. For
 * orientations 2..8 a new tensor replaces *img (the old one is destroyed);
 * 1 and unknown values leave it alone. On failure *img is unchanged. */
gi_status gi_exif_apply(gi_tensor **img, int orientation);

#endif
