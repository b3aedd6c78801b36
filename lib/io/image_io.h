/* Internal entry points of the image decoder (not exported). */
#ifndef GI_IMAGE_IO_H
#define GI_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "gatedinpaint.h"

/* gi_image_load_ex() on a file image in memory (`data` is only read,
 * during the call). Used by the fuzz targets. */
gi_status gi_image_load_memory(const void *data, size_t size, int32_t channels, int32_t flags,
                               gi_tensor **out, gi_metadata **meta);

/* Test hook: lower the decoder's pixel limit (default and ceiling 2^28;
 * 0 restores it). The fuzz targets use it to stay within their memory cap. */
void gi_image_set_max_pixels(uint64_t n);

#endif
