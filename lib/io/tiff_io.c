/* TIFF files (libtiff). Grey, grey+alpha, RGB and RGBA strips at 8 or 16
 * bits are read row by row, as stored; any other layout (palette, CMYK,
 * YCbCr, tiles, 1-bit...) goes through libtiff's RGBA reader at 8 bits.
 * Either way the rows come as stored and the Orientation tag (the values
 * EXIF took over) is applied like EXIF's. The first image of a multi-page
 * file is read. ICC profiles both ways. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <tiffio.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "codec.h"

/* No single libtiff allocation needs more for images within our limits;
 * a hostile strip size must not make it ask for gigabytes. */
#define MAX_TIFF_ALLOC ((tmsize_t)64 << 20)

/* libtiff reads and writes through these callbacks on our stream; its
 * errors are kept (the first one), its warnings dropped. */
typedef struct {
    FILE *fp;
    char msg[256];
} tiff_io;

static tmsize_t tio_read(thandle_t h, void *buf, tmsize_t n) {
    return (tmsize_t)fread(buf, 1, (size_t)n, ((tiff_io *)h)->fp);
}

static tmsize_t tio_write(thandle_t h, void *buf, tmsize_t n) {
    return (tmsize_t)fwrite(buf, 1, (size_t)n, ((tiff_io *)h)->fp);
}

static toff_t tio_seek(thandle_t h, toff_t off, int whence) {
    FILE *fp = ((tiff_io *)h)->fp;
    if (fseeko(fp, (off_t)off, whence) != 0) return (toff_t)-1;
    return (toff_t)ftello(fp);
}

static int tio_close(thandle_t h) { /* the caller closes the stream */
    (void)h;
    return 0;
}

static toff_t tio_size(thandle_t h) {
    FILE *fp = ((tiff_io *)h)->fp;
    const off_t at = ftello(fp);
    if (at < 0 || fseeko(fp, 0, SEEK_END) != 0) return 0;
    const off_t end = ftello(fp);
    fseeko(fp, at, SEEK_SET);
    return end < 0 ? 0 : (toff_t)end;
}

static int tio_map(thandle_t h, void **base, toff_t *size) {
    (void)h, (void)base, (void)size;
    return 0; /* no mapping: reads go through tio_read */
}

static void tio_unmap(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }

static int tio_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif, (void)module;
    tiff_io *io = user;
    if (!io->msg[0]) vsnprintf(io->msg, sizeof io->msg, fmt, ap);
    return 1; /* handled: libtiff prints nothing */
}

static int tio_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static TIFF *tio_open(tiff_io *io, const char *mode) {
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return NULL;
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, MAX_TIFF_ALLOC);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tio_error, io);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tio_warning, io);
    TIFF *tif = TIFFClientOpenExt("tiff", mode, (thandle_t)io, tio_read, tio_write, tio_seek,
                                  tio_close, tio_size, tio_map, tio_unmap, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

/* Everything else: libtiff's RGBA reader, 8 bits; alpha kept if present. */
static gi_status read_rgba(TIFF *tif, tiff_io *io, gi_decoding *d, uint32_t w, uint32_t h,
                           uint16_t orientation) {
    uint16_t nextra = 0, *extra = NULL;
    const bool alpha = TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra) && nextra > 0;
    uint32_t *raster = gi_malloc((size_t)w * h * sizeof *raster);
    if (!raster)
        return gi_fail(GI_E_NOMEM, "gi_image_load: cannot allocate %" PRIu32 "x%" PRIu32 " pixels",
                       w, h);
    gi_status st = GI_OK;
    /* Asked for the file's own orientation, libtiff flips nothing. */
    if (!TIFFReadRGBAImageOriented(tif, w, h, raster, orientation, 1))
        st = gi_fail(GI_E_IO, "gi_image_load: cannot decode TIFF '%s': %s", d->path,
                     io->msg[0] ? io->msg : "unsupported layout");
    if (!st && (st = gi_tensor_create(GI_DTYPE_U8, (int32_t)h, (int32_t)w, alpha ? 4 : 3, &d->img)))
        gi_error_prefix("gi_image_load");
    for (uint32_t y = 0; !st && y < h; y++) {
        uint8_t *q = gi_tensor_row(d->img, (int32_t)y);
        const uint32_t *p = raster + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++, q += d->img->c) {
            q[0] = (uint8_t)TIFFGetR(p[x]);
            q[1] = (uint8_t)TIFFGetG(p[x]);
            q[2] = (uint8_t)TIFFGetB(p[x]);
            if (alpha) q[3] = (uint8_t)TIFFGetA(p[x]);
        }
    }
    free(raster);
    return st;
}

static gi_status read_tiff(TIFF *tif, tiff_io *io, gi_decoding *d) {
    uint32_t w = 0, h = 0;
    uint16_t bps = 1, spp = 1, photo = 0xffff, planar = PLANARCONFIG_CONTIG;
    uint16_t format = SAMPLEFORMAT_UINT, orientation = ORIENTATION_TOPLEFT;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    if (orientation < ORIENTATION_TOPLEFT || orientation > ORIENTATION_LEFTBOT)
        orientation = ORIENTATION_TOPLEFT;
    d->orientation = orientation;
    gi_status st = gi_image_check_size(d->path, w, h);
    if (st) return st;
    const bool as_stored = !TIFFIsTiled(tif) && planar == PLANARCONFIG_CONTIG &&
                           (bps == 8 || bps == 16) && format == SAMPLEFORMAT_UINT &&
                           ((photo == PHOTOMETRIC_MINISBLACK && spp <= 2) ||
                            (photo == PHOTOMETRIC_RGB && (spp == 3 || spp == 4)));
    if (!as_stored && bps > 8 && (d->flags & GI_LOAD_16BIT))
        return gi_fail(GI_E_UNSUPPORTED,
                       "gi_image_load: '%s' is a %u-bit TIFF of a layout read only at 8 "
                       "bits (photometric %u, %u samples, planar %u, %s)",
                       d->path, bps, photo, spp, planar, TIFFIsTiled(tif) ? "tiled" : "strips");
    if (!as_stored) return read_rgba(tif, io, d, w, h, orientation);
    st = gi_tensor_create(bps == 16 ? GI_DTYPE_U16 : GI_DTYPE_U8, (int32_t)h, (int32_t)w, spp,
                          &d->img);
    if (st) {
        gi_error_prefix("gi_image_load");
        return st;
    }
    if ((uint64_t)TIFFScanlineSize64(tif) != (uint64_t)w * spp * (bps / 8))
        return gi_fail(GI_E_IO, "gi_image_load: cannot decode TIFF '%s': unexpected row size",
                       d->path);
    for (uint32_t y = 0; y < h; y++) /* 16-bit samples arrive in host order */
        if (TIFFReadScanline(tif, gi_tensor_row(d->img, (int32_t)y), y, 0) < 0)
            return gi_fail(GI_E_IO, "gi_image_load: cannot decode TIFF '%s': %s", d->path,
                           io->msg[0] ? io->msg : "damaged or truncated");
    return GI_OK;
}

gi_status gi_load_tiff(gi_decoding *d) {
    tiff_io io = {d->fp, ""};
    TIFF *tif = tio_open(&io, "rm");
    gi_status st;
    if (!tif) {
        st = gi_fail(GI_E_IO, "gi_image_load: cannot decode TIFF '%s': %s", d->path,
                     io.msg[0] ? io.msg : "cannot open");
    } else {
        st = read_tiff(tif, &io, d);
        uint32_t n = 0;
        void *icc = NULL;
        if (!st && TIFFGetField(tif, TIFFTAG_ICCPROFILE, &n, &icc))
            st = gi_metadata_keep(d->meta, GI_META_ICC, icc, n);
        TIFFClose(tif);
    }
    return st;
}

gi_status gi_save_tiff(const char *path, FILE *fp, const gi_tensor *img,
                       const gi_metadata *meta) {
    tiff_io io = {fp, ""};
    TIFF *tif = tio_open(&io, "w");
    if (!tif)
        return gi_fail(GI_E_IO, "gi_image_save: cannot write TIFF '%s': %s", path,
                       io.msg[0] ? io.msg : "cannot open");
    const size_t row = (size_t)img->w * img->c * gi_dtype_size(img->dtype);
    /* libtiff may change a row while encoding it (the predictor): a copy. */
    uint8_t *buf = gi_malloc(row);
    bool ok = buf != NULL;
    ok = ok && TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->w) &&
         TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->h) &&
         TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, img->dtype == GI_DTYPE_U16 ? 16 : 8) &&
         TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, img->c) &&
         TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
                      img->c <= 2 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB) &&
         TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
         TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
         TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
         TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL) &&
         TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    if (ok && (img->c == 2 || img->c == 4)) {
        const uint16_t alpha = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &alpha);
    }
    if (ok && meta && meta->icc)
        ok = TIFFSetField(tif, TIFFTAG_ICCPROFILE, (uint32_t)meta->icc_size, meta->icc);
    for (int32_t y = 0; ok && y < img->h; y++) {
        memcpy(buf, gi_tensor_row(img, y), row);
        ok = TIFFWriteScanline(tif, buf, (uint32_t)y, 0) >= 0;
    }
    ok = ok && TIFFFlush(tif);
    TIFFClose(tif);
    const bool nomem = buf == NULL;
    free(buf);
    if (!ok)
        return gi_fail(nomem ? GI_E_NOMEM : GI_E_IO, "gi_image_save: cannot write TIFF '%s': %s",
                       path, nomem ? "out of memory" : io.msg[0] ? io.msg : "libtiff failed");
    return GI_OK;
}
