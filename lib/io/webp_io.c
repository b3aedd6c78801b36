/* WebP files (libwebp, libwebpmux, libwebpdemux): still images, 8 bits,
 * RGB or RGBA; ICC profile and EXIF in their RIFF chunks. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "../common/error.h"
#include "../common/pixels.h"
#include "codec.h"
#include "exif.h"

/* A WebP is at most 16383 x 16383 pixels; its file is smaller than that
 * many RGBA pixels. */
#define MAX_WEBP_BYTES ((size_t)16383 * 16383 * 4)

/* The ICC and EXIF chunks, when asked for; EXIF also gives the orientation.
 * Some writers start the EXIF chunk with JPEG's "Exif\0\0". */
static gi_status webp_metadata(gi_decoding *d, const uint8_t *data, size_t size) {
    WebPData whole = {data, size};
    WebPDemuxer *demux = WebPDemux(&whole);
    if (!demux) return GI_OK; /* the image decoded: metadata is best effort */
    const uint32_t flags = WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS);
    WebPChunkIterator it;
    gi_status st = GI_OK;
    if ((flags & ICCP_FLAG) && WebPDemuxGetChunk(demux, "ICCP", 1, &it)) {
        st = gi_metadata_keep(d->meta, GI_META_ICC, it.chunk.bytes, it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
    if (!st && (flags & EXIF_FLAG) && WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
        const uint8_t *exif = it.chunk.bytes;
        size_t n = it.chunk.size;
        if (n >= 6 && memcmp(exif, "Exif\0\0", 6) == 0) exif += 6, n -= 6;
        d->orientation = gi_exif_orientation_tiff(exif, n);
        st = gi_metadata_keep(d->meta, GI_META_EXIF, exif, n);
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(demux);
    return st;
}

gi_status gi_load_webp(gi_decoding *d) {
    uint8_t *data;
    size_t size;
    gi_status st = gi_read_stream(d->path, d->fp, MAX_WEBP_BYTES, &data, &size);
    if (st) return st;
    WebPBitstreamFeatures f;
    VP8StatusCode code = WebPGetFeatures(data, size, &f);
    if (code != VP8_STATUS_OK)
        st = gi_fail(GI_E_IO, "gi_image_load: cannot decode WebP '%s': bad header (code %d)",
                     d->path, (int)code);
    else if (f.has_animation)
        st = gi_fail(GI_E_UNSUPPORTED, "gi_image_load: '%s' is an animated WebP", d->path);
    if (!st) st = gi_image_check_size(d->path, (uint32_t)f.width, (uint32_t)f.height);
    if (!st && (st = gi_tensor_create(GI_DTYPE_U8, f.height, f.width, f.has_alpha ? 4 : 3,
                                      &d->img)))
        gi_error_prefix("gi_image_load");
    if (!st) {
        gi_tensor *t = d->img;
        const size_t bytes = t->row_stride * (size_t)t->h;
        const int stride = (int)t->row_stride;
        const uint8_t *ok = f.has_alpha ? WebPDecodeRGBAInto(data, size, t->data, bytes, stride)
                                        : WebPDecodeRGBInto(data, size, t->data, bytes, stride);
        if (!ok)
            st = gi_fail(GI_E_IO, "gi_image_load: cannot decode WebP '%s': damaged or truncated",
                         d->path);
    }
    if (!st) st = webp_metadata(d, data, size);
    free(data);
    return st;
}

/* The encoded image with the metadata chunks added (RIFF VP8X). */
static gi_status webp_mux(const char *path, const uint8_t *image, size_t size,
                          const gi_metadata *meta, WebPData *out) {
    WebPMux *mux = WebPMuxNew();
    if (!mux) return gi_fail(GI_E_NOMEM, "gi_image_save: cannot allocate the WebP muxer");
    const WebPData img = {image, size};
    WebPMuxError err = WebPMuxSetImage(mux, &img, 0);
    if (err == WEBP_MUX_OK && meta->icc) {
        const WebPData icc = {meta->icc, meta->icc_size};
        err = WebPMuxSetChunk(mux, "ICCP", &icc, 0);
    }
    if (err == WEBP_MUX_OK && meta->exif) {
        const WebPData exif = {meta->exif, meta->exif_size};
        err = WebPMuxSetChunk(mux, "EXIF", &exif, 0);
    }
    if (err == WEBP_MUX_OK) err = WebPMuxAssemble(mux, out);
    WebPMuxDelete(mux);
    if (err != WEBP_MUX_OK)
        return gi_fail(err == WEBP_MUX_MEMORY_ERROR ? GI_E_NOMEM : GI_E_IO,
                       "gi_image_save: cannot add the metadata to WebP '%s' (mux error %d)",
                       path, (int)err);
    return GI_OK;
}

gi_status gi_save_webp(const char *path, FILE *fp, const gi_tensor *img, int32_t quality,
                       const gi_metadata *meta) {
    if (img->w > WEBP_MAX_DIMENSION || img->h > WEBP_MAX_DIMENSION)
        return gi_fail(GI_E_UNSUPPORTED,
                       "gi_image_save: image is %dx%d; WebP allows at most %d on a side",
                       (int)img->w, (int)img->h, WEBP_MAX_DIMENSION);
    /* WebP has no grey: grey is saved as RGB, grey+alpha as RGBA. */
    gi_tensor *rgb = NULL;
    if (img->c <= 2) {
        gi_status st = gi_convert_pixels(img, GI_DTYPE_U8, img->c + 2, &rgb);
        if (st) {
            gi_error_prefix("gi_image_save");
            return st;
        }
        img = rgb;
    }
    WebPConfig config;
    WebPPicture pic;
    WebPMemoryWriter wr;
    WebPMemoryWriterInit(&wr);
    bool ok = WebPConfigInit(&config) && WebPPictureInit(&pic);
    if (quality == 0) { /* lossless, transparent pixels' colours kept too */
        config.lossless = 1;
        config.exact = 1;
    } else {
        config.quality = (float)quality;
    }
    pic.use_argb = 1;
    pic.width = img->w;
    pic.height = img->h;
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &wr;
    ok = ok && (img->c == 4 ? WebPPictureImportRGBA(&pic, img->data, (int)img->row_stride)
                            : WebPPictureImportRGB(&pic, img->data, (int)img->row_stride));
    ok = ok && WebPEncode(&config, &pic);
    gi_status st = GI_OK;
    if (!ok)
        st = gi_fail(pic.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ? GI_E_NOMEM : GI_E_IO,
                     "gi_image_save: cannot encode WebP '%s' (encoder error %d)", path,
                     (int)pic.error_code);
    WebPPictureFree(&pic);
    gi_tensor_destroy(rgb);
    WebPData file = {wr.mem, wr.size}, muxed = {NULL, 0};
    if (!st && meta && (meta->icc || meta->exif)) {
        st = webp_mux(path, wr.mem, wr.size, meta, &muxed);
        file = muxed;
    }
    if (!st && fwrite(file.bytes, 1, file.size, fp) != file.size)
        st = gi_fail(GI_E_IO, "gi_image_save: cannot write '%s'", path);
    WebPDataClear(&muxed);
    WebPMemoryWriterClear(&wr);
    return st;
}
