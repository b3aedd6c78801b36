/* What every image format shares: the file being decoded or encoded, its
 * metadata and the size limits. PNG and JPEG live in image_io.c, WebP and
 * TIFF in their own files (optional: GI_HAVE_WEBP, GI_HAVE_TIFF). */
#ifndef GI_CODEC_H
#define GI_CODEC_H

#include <stdint.h>
#include <stdio.h>

#include "../common/tensor.h"

/* Behind the public gi_metadata handle: the blocks as found in the file.
 * exif is a TIFF block ("II*\0"/"MM\0*"), without JPEG's "Exif\0\0". */
struct gi_metadata {
    uint8_t *exif, *icc;
    size_t exif_size, icc_size;
};

/* One file being decoded. A loader fills img (pixels as stored: U8, or U16
 * for 16-bit samples when flags has GI_LOAD_16BIT), orientation (EXIF,
 * 1 = upright) and, when meta is not NULL, its blocks. On failure the
 * caller frees img. */
typedef struct {
    const char *path; /* for messages: the file name or "<memory>" */
    FILE *fp;         /* at the start of the file */
    int32_t flags;    /* GI_LOAD_* */
    gi_tensor *img;
    int orientation;
    gi_metadata *meta;
} gi_decoding;

/* Refuse empty images and those beyond the limits, before allocating. */
gi_status gi_image_check_size(const char *path, uint32_t w, uint32_t h);

/* Keep a copy of a metadata block (GI_META_*) in meta, replacing any;
 * a NULL meta or an empty block is ignored. */
gi_status gi_metadata_keep(gi_metadata *meta, int32_t kind, const void *data, size_t size);

/* The whole stream in memory (WebP decodes from a buffer); at most `limit`
 * bytes, else GI_E_UNSUPPORTED. *size is set; free the result. */
gi_status gi_read_stream(const char *path, FILE *fp, size_t limit, uint8_t **data,
                         size_t *size);

/* The loaders' messages start with "gi_image_load: ", the savers' with
 * "gi_image_save: ". */
gi_status gi_load_webp(gi_decoding *d);
gi_status gi_load_tiff(gi_decoding *d);
/* Write `img` (U8; U16 for TIFF) to the open file fp; quality as
 * gi_image_save_ex. */
gi_status gi_save_webp(const char *path, FILE *fp, const gi_tensor *img, int32_t quality,
                       const gi_metadata *meta);
gi_status gi_save_tiff(const char *path, FILE *fp, const gi_tensor *img,
                       const gi_metadata *meta);

#endif
