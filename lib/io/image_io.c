/* Image files <-> tensors: PNG and JPEG here (libpng, libjpeg-turbo), WebP
 * and TIFF in webp_io.c and tiff_io.c; the format dispatch and metadata.
 *
 * Both libraries report fatal errors through a callback that must not
 * return; ours record the message and longjmp back, so nothing is printed
 * and the process never exits. State that must survive the longjmp lives in
 * a struct owned by the caller of the function that calls setjmp. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "../common/pixels.h"
#include "../common/tensor.h"
#include "codec.h"
#include "exif.h"
#include "image_io.h"

/* Beyond these an allocation would be absurd (or the decoder's own arithmetic
 * fragile); refusing before allocating also stops decompression bombs. */
#define MAX_SIDE 65535u
#define MAX_PIXELS ((uint64_t)1 << 28)
/* Progressive JPEGs use about ten scans; thousands of tiny scans only make
 * the decoder loop over the whole image again and again. */
#define MAX_JPEG_SCANS 256
/* Ancillary PNG chunks (text, ICC, EXIF) we are willing to buffer. */
#define MAX_PNG_CHUNK_BYTES ((png_alloc_size_t)8 << 20)
/* No single libpng allocation needs more: rows are at most 65535 x 8 bytes.
 * libpng 1.6 allocates an ancillary chunk's declared length (up to 2 GiB)
 * before reading it, even past the chunk limit above (it only warns), so a
 * 100-byte file could make it ask for gigabytes. Larger requests are
 * refused; libpng then skips the chunk or fails on the missing data. */
#define MAX_PNG_ALLOC ((png_alloc_size_t)32 << 20)

/* Lowered by the fuzz targets (gi_image_set_max_pixels). */
static _Atomic uint64_t max_pixels = MAX_PIXELS;

void gi_image_set_max_pixels(uint64_t n) { max_pixels = n && n < MAX_PIXELS ? n : MAX_PIXELS; }

#define DEFAULT_JPEG_QUALITY 95

/* libjpeg error manager that longjmps instead of exiting. */
typedef struct {
    struct jpeg_error_mgr pub; /* first: libjpeg sees only this part */
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX + 64];
    gi_status status; /* what the longjmp means: GI_E_IO unless set */
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    cinfo->err->format_message(cinfo, e->msg);
    e->status = cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? GI_E_NOMEM : GI_E_IO;
    longjmp(e->jb, 1);
}

/* Called by libjpeg while it absorbs the input: stops scan floods. */
static void jpeg_on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr jd = (j_decompress_ptr)cinfo;
    if (jd->input_scan_number > MAX_JPEG_SCANS) {
        jpeg_err *e = (jpeg_err *)cinfo->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", MAX_JPEG_SCANS);
        e->status = GI_E_UNSUPPORTED;
        longjmp(e->jb, 1);
    }
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace output */
    /* libjpeg pads a truncated or damaged scan with gray and carries on;
     * an image with invented pixels is an error here. */
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) jpeg_on_error(cinfo);
    cinfo->err->num_warnings++;
}

/* The default would print to stderr. */
static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_err_init(jpeg_err *e) {
    e->status = GI_E_IO;
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_on_error;
    e->pub.emit_message = jpeg_on_message;
    e->pub.output_message = jpeg_on_output;
}

/* libpng: errors longjmp with the message kept; warnings (bad ancillary
 * chunks and the like) leave a usable image and are dropped. */
typedef struct {
    FILE *fp;
    char msg[256];
    int oom; /* an allocation failed: the error is GI_E_NOMEM */
} png_io;

/* libpng's allocations go through gi_malloc, so the failing-allocator
 * tests reach them too. */
static png_voidp png_alloc_cb(png_structp png, png_alloc_size_t size) {
    if (size > MAX_PNG_ALLOC) return NULL; /* a hostile length, not memory pressure */
    void *p = gi_malloc(size);
    if (!p) {
        png_io *io = png_get_mem_ptr(png);
        if (io) io->oom = 1;
    }
    return p;
}

static void png_free_cb(png_structp png, png_voidp p) {
    (void)png;
    free(p);
}

static void png_on_error(png_structp png, png_const_charp msg) {
    png_io *io = png_get_error_ptr(png);
    snprintf(io->msg, sizeof io->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_read_cb(png_structp png, png_bytep data, size_t size) {
    png_io *io = png_get_io_ptr(png);
    if (fread(data, 1, size, io->fp) != size)
        png_error(png, ferror(io->fp) ? strerror(errno) : "unexpected end of file");
}

static void png_write_cb(png_structp png, png_bytep data, size_t size) {
    png_io *io = png_get_io_ptr(png);
    if (fwrite(data, 1, size, io->fp) != size) png_error(png, strerror(errno));
}

static void png_flush_cb(png_structp png) {
    png_io *io = png_get_io_ptr(png);
    if (fflush(io->fp) != 0) png_error(png, strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    gi_decoding *out;
    png_io io;
    struct jpeg_decompress_struct jd;
    jpeg_err jerr;
    struct jpeg_progress_mgr jprogress;
    uint8_t *cmyk_row;
} decoder;

gi_status gi_image_check_size(const char *path, uint32_t w, uint32_t h) {
    const uint64_t limit = max_pixels;
    if (w == 0 || h == 0)
        return gi_fail(GI_E_IO, "gi_image_load: '%s' is %" PRIu32 "x%" PRIu32 " pixels",
                       path, w, h);
    if (w > MAX_SIDE || h > MAX_SIDE || (uint64_t)w * h > limit)
        return gi_fail(GI_E_UNSUPPORTED,
                       "gi_image_load: '%s' is %" PRIu32 "x%" PRIu32
                       " pixels; the limit is %u on a side and %" PRIu64 " in all",
                       path, w, h, MAX_SIDE, limit);
    return GI_OK;
}

static gi_status load_png(decoder *d) {
    png_structp png =
        png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &d->io, png_on_error, png_on_warning,
                                 &d->io, png_alloc_cb, png_free_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return gi_fail(GI_E_NOMEM, "gi_image_load: cannot allocate the PNG decoder");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        if (d->io.oom)
            return gi_fail(GI_E_NOMEM, "gi_image_load: out of memory decoding PNG '%s'",
                           d->out->path);
        return gi_fail(GI_E_IO, "gi_image_load: cannot decode PNG '%s': %s", d->out->path,
                       d->io.msg);
    }
    png_set_read_fn(png, &d->io, png_read_cb);
    png_set_sig_bytes(png, 8); /* the caller read the signature */
    png_set_chunk_malloc_max(png, MAX_PNG_CHUNK_BYTES);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    gi_status st = gi_image_check_size(d->out->path, w, h);
    if (st) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    const bool keep16 = depth == 16 && (d->out->flags & GI_LOAD_16BIT);
    if (keep16) {
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe) png_set_swap(png); /* PNG is big-endian */
    } else if (depth == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        png_set_scale_16(png); /* rounds, where strip_16 truncates */
#else
        png_set_strip_16(png);
#endif
    }
#ifdef PNG_iCCP_SUPPORTED
    png_charp icc_name;
    png_bytep icc;
    png_uint_32 icc_size;
    int icc_compression;
    if (png_get_iCCP(png, info, &icc_name, &icc_compression, &icc, &icc_size))
        st = gi_metadata_keep(d->out->meta, GI_META_ICC, icc, icc_size);
    if (st) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
#endif
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int c = png_get_channels(png, info);
    const size_t bytes = keep16 ? 2 : 1;
    if (c < 1 || c > 4 || png_get_rowbytes(png, info) != (size_t)w * (size_t)c * bytes)
        png_error(png, "unexpected pixel layout after expansion");
    st = gi_tensor_create(keep16 ? GI_DTYPE_U16 : GI_DTYPE_U8, (int32_t)h, (int32_t)w, c,
                          &d->out->img);
    if (st) {
        png_destroy_read_struct(&png, &info, NULL);
        gi_error_prefix("gi_image_load");
        return st;
    }
    /* With interlace handling each pass refines the same rows in place. */
    for (int p = 0; p < passes; p++)
        for (png_uint_32 y = 0; y < h; y++)
            png_read_row(png, gi_tensor_row(d->out->img, (int32_t)y), NULL);
    png_read_end(png, info); /* eXIf may follow the image data */

#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 exif_size;
    png_bytep exif;
    if (png_get_eXIf_1(png, info, &exif_size, &exif)) {
        d->out->orientation = gi_exif_orientation_tiff(exif, exif_size);
        st = gi_metadata_keep(d->out->meta, GI_META_EXIF, exif, exif_size);
    }
#endif
    png_destroy_read_struct(&png, &info, NULL);
    return st;
}

/* CMYK as decoded -> RGB. Adobe applications write inverted CMYK (0 = full
 * ink) and flag it with their APP14 marker; other writers store ink. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, uint32_t w, bool inverted) {
    for (uint32_t x = 0; x < w; x++, in += 4, out += 3) {
        unsigned k = inverted ? in[3] : 255u - in[3];
        for (int i = 0; i < 3; i++) {
            unsigned v = inverted ? in[i] : 255u - in[i];
            out[i] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

static gi_status load_jpeg(decoder *d) {
    struct jpeg_decompress_struct *jd = &d->jd;
    jpeg_err_init(&d->jerr);
    jd->err = &d->jerr.pub;
    if (setjmp(d->jerr.jb)) {
        jpeg_destroy_decompress(jd);
        return gi_fail(d->jerr.status, "gi_image_load: cannot decode JPEG '%s': %s", d->out->path,
                       d->jerr.msg);
    }
    jpeg_create_decompress(jd);
    d->jprogress.progress_monitor = jpeg_on_progress;
    jd->progress = &d->jprogress;
    jpeg_stdio_src(jd, d->io.fp);
    jpeg_save_markers(jd, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(jd, JPEG_APP0 + 2, 0xFFFF); /* ICC profile */
    jpeg_read_header(jd, TRUE);

    gi_status st = gi_image_check_size(d->out->path, jd->image_width, jd->image_height);
    if (st) {
        jpeg_destroy_decompress(jd);
        return st;
    }
    /* The first APP1 that is EXIF wins (XMP also lives in APP1). */
    for (jpeg_saved_marker_ptr m = jd->marker_list; m; m = m->next) {
        int o = m->marker == JPEG_APP0 + 1
                    ? gi_exif_orientation_app1(m->data, m->data_length)
                    : 0;
        if (o) {
            d->out->orientation = o;
            st = gi_metadata_keep(d->out->meta, GI_META_EXIF, m->data + 6, m->data_length - 6);
            break;
        }
    }
    JOCTET *icc = NULL;
    unsigned int icc_size = 0;
    if (!st && d->out->meta && jpeg_read_icc_profile(jd, &icc, &icc_size)) {
        st = gi_metadata_keep(d->out->meta, GI_META_ICC, icc, icc_size);
        free(icc);
    }
    if (st) {
        jpeg_destroy_decompress(jd);
        return st;
    }
    bool cmyk = jd->jpeg_color_space == JCS_CMYK || jd->jpeg_color_space == JCS_YCCK;
    int c = jd->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    jd->out_color_space = cmyk ? JCS_CMYK : c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(jd);
    if (jd->output_components != (cmyk ? 4 : c)) ERREXIT(jd, JERR_BAD_J_COLORSPACE);

    const uint32_t w = jd->output_width;
    st = gi_tensor_create(GI_DTYPE_U8, (int32_t)jd->output_height, (int32_t)w, c, &d->out->img);
    if (!st && cmyk && !(d->cmyk_row = gi_malloc((size_t)w * 4)))
        st = gi_fail(GI_E_NOMEM, "cannot allocate a %" PRIu32 "-pixel row", w);
    if (st) {
        jpeg_destroy_decompress(jd);
        gi_error_prefix("gi_image_load");
        return st;
    }
    while (jd->output_scanline < jd->output_height) {
        uint8_t *dst = gi_tensor_row(d->out->img, (int32_t)jd->output_scanline);
        JSAMPROW row = cmyk ? d->cmyk_row : dst;
        jpeg_read_scanlines(jd, &row, 1);
        if (cmyk) cmyk_to_rgb(d->cmyk_row, dst, w, jd->saw_Adobe_marker);
    }
    jpeg_finish_decompress(jd);
    jpeg_destroy_decompress(jd);
    return GI_OK;
}

/* ------------------------------------------------------------------------ */
/* Metadata                                                                  */
/* ------------------------------------------------------------------------ */

gi_status gi_metadata_keep(gi_metadata *meta, int32_t kind, const void *data, size_t size) {
    if (!meta || !data || size == 0) return GI_OK;
    uint8_t *copy = gi_malloc(size);
    if (!copy)
        return gi_fail(GI_E_NOMEM, "gi_image_load: cannot keep a %zu-byte metadata block",
                       size);
    memcpy(copy, data, size);
    uint8_t **slot = kind == GI_META_EXIF ? &meta->exif : &meta->icc;
    free(*slot);
    *slot = copy;
    *(kind == GI_META_EXIF ? &meta->exif_size : &meta->icc_size) = size;
    return GI_OK;
}

gi_status gi_metadata_get(const gi_metadata *meta, int32_t kind, const void **data,
                          size_t *size) {
    if (!meta || !data || !size)
        return gi_fail(GI_E_INVALID_ARG, "gi_metadata_get: %s is NULL",
                       !meta ? "meta" : !data ? "data" : "size");
    if (kind != GI_META_EXIF && kind != GI_META_ICC)
        return gi_fail(GI_E_INVALID_ARG,
                       "gi_metadata_get: kind is %d, expected GI_META_EXIF or GI_META_ICC",
                       (int)kind);
    *data = kind == GI_META_EXIF ? meta->exif : meta->icc;
    *size = kind == GI_META_EXIF ? meta->exif_size : meta->icc_size;
    return GI_OK;
}

void gi_metadata_destroy(gi_metadata *meta) {
    if (!meta) return;
    free(meta->exif);
    free(meta->icc);
    free(meta);
}

gi_status gi_read_stream(const char *path, FILE *fp, size_t limit, uint8_t **data,
                         size_t *size) {
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, k;
    do {
        if (n == cap) {
            if (cap >= limit) {
                free(buf);
                return gi_fail(GI_E_UNSUPPORTED, "gi_image_load: '%s' is larger than %zu bytes",
                               path, limit);
            }
            cap = cap ? 2 * cap : (size_t)1 << 16;
            uint8_t *p = gi_malloc(cap);
            if (!p) {
                free(buf);
                return gi_fail(GI_E_NOMEM, "gi_image_load: cannot buffer '%s'", path);
            }
            if (n) memcpy(p, buf, n);
            free(buf);
            buf = p;
        }
        k = fread(buf + n, 1, cap - n, fp);
        n += k;
    } while (k > 0);
    if (ferror(fp)) {
        free(buf);
        return gi_fail(GI_E_IO, "gi_image_load: cannot read '%s': %s", path, strerror(errno));
    }
    *data = buf;
    *size = n;
    return GI_OK;
}

/* ------------------------------------------------------------------------ */
/* Format dispatch                                                           */
/* ------------------------------------------------------------------------ */

static gi_status check_channels(const char *fn, int32_t channels) {
    if (channels != 0 && channels != 1 && channels != 3 && channels != 4)
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: channels is %d; expected 0 (as stored), 1, 3 or 4", fn,
                       (int)channels);
    return GI_OK;
}

#if !defined(GI_HAVE_WEBP) || !defined(GI_HAVE_TIFF)
/* The error for a format this build left out. */
static gi_status not_built(const char *fn, const char *path, const char *format,
                           const char *option) {
    return gi_fail(GI_E_UNSUPPORTED,
                   "%s: '%s' is %s, and this build of libgatedinpaint has no %s support "
                   "(meson option -D%s=enabled, with its Debian package installed)",
                   fn, path, format, format, option);
}
#endif

/* Decode from an open stream (closed by the caller); `name` for messages. */
static gi_status decode(FILE *fp, const char *name, int32_t channels, int32_t flags,
                        gi_tensor **out, gi_metadata **meta) {
    gi_decoding job = {.path = name, .fp = fp, .flags = flags, .orientation = 1};
    if (meta && !(job.meta = gi_calloc(1, sizeof *job.meta)))
        return gi_fail(GI_E_NOMEM, "gi_image_load: cannot allocate the metadata");
    decoder d = {.out = &job};
    d.io.fp = fp;
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t magic[12];
    size_t n = fread(magic, 1, sizeof magic, fp);
    const bool webp = n == 12 && memcmp(magic, "RIFF", 4) == 0 && memcmp(magic + 8, "WEBP", 4) == 0;
    const bool tiff = n >= 4 && (memcmp(magic, "II*\0", 4) == 0 || memcmp(magic, "MM\0*", 4) == 0 ||
                                 memcmp(magic, "II+\0", 4) == 0 || memcmp(magic, "MM\0+", 4) == 0);
    gi_status st;
    if (n >= 8 && memcmp(magic, png_sig, sizeof png_sig) == 0) {
        fseek(fp, 8, SEEK_SET);
        st = load_png(&d);
    } else if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) {
        rewind(fp);
        st = load_jpeg(&d);
    } else if (webp) {
        rewind(fp);
#ifdef GI_HAVE_WEBP
        st = gi_load_webp(&job);
#else
        st = not_built("gi_image_load", name, "WebP", "webp");
#endif
    } else if (tiff) {
        rewind(fp);
#ifdef GI_HAVE_TIFF
        st = gi_load_tiff(&job);
#else
        st = not_built("gi_image_load", name, "TIFF", "tiff");
#endif
    } else if (ferror(fp)) {
        st = gi_fail(GI_E_IO, "gi_image_load: cannot read '%s': %s", name, strerror(errno));
    } else if (n == 0) {
        st = gi_fail(GI_E_IO, "gi_image_load: '%s' is empty", name);
    } else {
        st = gi_fail(GI_E_IO,
                     "gi_image_load: '%s' is not a PNG, JPEG, WebP or TIFF file", name);
    }
    free(d.cmyk_row);

    if (!st) {
        st = gi_exif_apply(&job.img, job.orientation);
        /* The pixels are upright now: a copied EXIF block must say so. */
        if (!st && job.meta) gi_exif_set_upright(job.meta->exif, job.meta->exif_size);
        /* 8 bits unless asked for 16, then the channels asked for. */
        const int32_t dtype = flags & GI_LOAD_16BIT ? job.img->dtype : GI_DTYPE_U8;
        const int32_t want = channels ? channels : job.img->c;
        gi_tensor *conv = NULL;
        if (!st && (dtype != job.img->dtype || want != job.img->c) &&
            !(st = gi_convert_pixels(job.img, dtype, want, &conv))) {
            gi_tensor_destroy(job.img);
            job.img = conv;
        }
        if (st) gi_error_prefix("gi_image_load");
    }
    if (st) {
        gi_tensor_destroy(job.img);
        gi_metadata_destroy(job.meta);
        return st;
    }
    *out = job.img;
    if (meta) *meta = job.meta;
    return GI_OK;
}

static gi_status check_load_args(const char *fn, int32_t channels, int32_t flags,
                                 gi_tensor **out, gi_metadata **meta) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (meta) *meta = NULL;
    if (flags & ~GI_LOAD_16BIT)
        return gi_fail(GI_E_INVALID_ARG, "%s: unknown flags 0x%x", fn,
                       (unsigned)(flags & ~GI_LOAD_16BIT));
    return check_channels(fn, channels);
}

gi_status gi_image_load_ex(const char *path, int32_t channels, int32_t flags, gi_tensor **out,
                           gi_metadata **meta) {
    gi_status st = check_load_args("gi_image_load", channels, flags, out, meta);
    if (st) return st;
    if (!path) return gi_fail(GI_E_INVALID_ARG, "gi_image_load: path is NULL");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return gi_fail(GI_E_IO, "gi_image_load: cannot open '%s': %s", path, strerror(errno));
    st = decode(fp, path, channels, flags, out, meta);
    fclose(fp);
    return st;
}

gi_status gi_image_load(const char *path, int32_t channels, gi_tensor **out) {
    return gi_image_load_ex(path, channels, 0, out, NULL);
}

gi_status gi_image_load_memory(const void *data, size_t size, int32_t channels, int32_t flags,
                               gi_tensor **out, gi_metadata **meta) {
    static const char name[] = "<memory>";
    gi_status st = check_load_args("gi_image_load_memory", channels, flags, out, meta);
    if (st) return st;
    if (!data) return gi_fail(GI_E_INVALID_ARG, "gi_image_load_memory: data is NULL");
    if (size == 0) return gi_fail(GI_E_IO, "gi_image_load: '%s' is empty", name);
    /* The decoders read through stdio; fmemopen only reads `data`. */
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return gi_fail(errno == ENOMEM ? GI_E_NOMEM : GI_E_IO,
                       "gi_image_load_memory: cannot open a memory stream: %s",
                       strerror(errno));
    st = decode(fp, name, channels, flags, out, meta);
    fclose(fp);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *path;
    const gi_tensor *img;
    const gi_metadata *meta; /* NULL: none */
    png_io io;
    struct jpeg_compress_struct jc;
    jpeg_err jerr;
    uint8_t *row; /* JPEG rows with the alpha dropped */
} encoder;

static const int png_color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA};

static gi_status save_png(encoder *e) {
    const gi_tensor *t = e->img;
    png_structp png =
        png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &e->io, png_on_error, png_on_warning,
                                  &e->io, png_alloc_cb, png_free_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return gi_fail(GI_E_NOMEM, "gi_image_save: cannot allocate the PNG encoder");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (e->io.oom)
            return gi_fail(GI_E_NOMEM, "gi_image_save: out of memory writing PNG '%s'",
                           e->path);
        return gi_fail(GI_E_IO, "gi_image_save: cannot write PNG '%s': %s", e->path,
                       e->io.msg);
    }
    png_set_write_fn(png, &e->io, png_write_cb, png_flush_cb);
    /* zlib level 3, not libpng's 6: 2.4x faster on photos for files a fifth
     * larger (docs/PERFORMANCE.md, "Strategies"; bench/png_levels.py). */
    png_set_compression_level(png, 3);
    const bool sixteen = t->dtype == GI_DTYPE_U16;
    png_set_IHDR(png, info, (png_uint_32)t->w, (png_uint_32)t->h, sixteen ? 16 : 8,
                 png_color_types[t->c], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    /* A profile libpng finds malformed is dropped (a warning), not fatal. */
    png_set_benign_errors(png, 1);
    if (e->meta && e->meta->icc)
        png_set_iCCP(png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, e->meta->icc,
                     (png_uint_32)e->meta->icc_size);
    if (e->meta && e->meta->exif)
        png_set_eXIf_1(png, info, (png_uint_32)e->meta->exif_size, e->meta->exif);
    png_write_info(png, info);
    const uint16_t probe = 1;
    if (sixteen && *(const uint8_t *)&probe) png_set_swap(png); /* PNG is big-endian */
    for (int32_t y = 0; y < t->h; y++) png_write_row(png, gi_tensor_row(t, y));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return GI_OK;
}

static gi_status save_jpeg(encoder *e, int quality) {
    const gi_tensor *t = e->img;
    struct jpeg_compress_struct *jc = &e->jc;
    /* JPEG has no alpha: 2 channels are saved as gray, 4 as RGB. */
    const int comps = t->c >= 3 ? 3 : 1;
    if (t->c != comps && !(e->row = gi_malloc((size_t)t->w * (size_t)comps)))
        return gi_fail(GI_E_NOMEM, "gi_image_save: cannot allocate a %d-pixel row", (int)t->w);
    jpeg_err_init(&e->jerr);
    jc->err = &e->jerr.pub;
    if (setjmp(e->jerr.jb)) {
        jpeg_destroy_compress(jc);
        return gi_fail(e->jerr.status, "gi_image_save: cannot write JPEG '%s': %s", e->path,
                       e->jerr.msg);
    }
    jpeg_create_compress(jc);
    jpeg_stdio_dest(jc, e->io.fp);
    jc->image_width = (JDIMENSION)t->w;
    jc->image_height = (JDIMENSION)t->h;
    jc->input_components = comps;
    jc->in_color_space = comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(jc);
    jpeg_set_quality(jc, quality, TRUE);
    jc->optimize_coding = TRUE;
    /* At high quality chroma subsampling is the largest visible loss (colour
     * bleeding at the edges of a filled hole): keep full-resolution chroma. */
    if (comps == 3 && quality >= 90) {
        jc->comp_info[0].h_samp_factor = 1;
        jc->comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(jc, TRUE);
    const gi_metadata *m = e->meta;
    /* One APP1 marker holds 65533 bytes, "Exif\0\0" included. */
    if (m && m->exif && m->exif_size <= 65533 - 6) {
        jpeg_write_m_header(jc, JPEG_APP0 + 1, (unsigned)(m->exif_size + 6));
        for (int i = 0; i < 6; i++) jpeg_write_m_byte(jc, "Exif\0\0"[i]);
        for (size_t i = 0; i < m->exif_size; i++) jpeg_write_m_byte(jc, m->exif[i]);
    }
    if (m && m->icc) jpeg_write_icc_profile(jc, m->icc, (unsigned)m->icc_size);
    for (int32_t y = 0; y < t->h; y++) {
        const uint8_t *src = gi_tensor_row(t, y);
        JSAMPROW row = (JSAMPROW)src; /* libjpeg only reads input rows */
        if (e->row) {
            for (int32_t x = 0; x < t->w; x++)
                memcpy(e->row + (size_t)x * comps, src + (size_t)x * t->c, (size_t)comps);
            row = e->row;
        }
        jpeg_write_scanlines(jc, &row, 1);
    }
    jpeg_finish_compress(jc);
    jpeg_destroy_compress(jc);
    return GI_OK;
}

/* The formats gi_image_save_ex writes, by extension. */
enum { FMT_NONE, FMT_PNG, FMT_JPEG, FMT_WEBP, FMT_TIFF };

static int format_of(const char *path) {
    static const struct {
        const char *ext;
        int fmt;
    } exts[] = {{".png", FMT_PNG},   {".jpg", FMT_JPEG}, {".jpeg", FMT_JPEG},
                {".webp", FMT_WEBP}, {".tif", FMT_TIFF}, {".tiff", FMT_TIFF}};
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    for (size_t i = 0; dot && i < sizeof exts / sizeof *exts; i++)
        if (strcasecmp(dot, exts[i].ext) == 0) return exts[i].fmt;
    return FMT_NONE;
}

/* An ICC profile describes one colour space ("RGB ", "GRAY", "CMYK" at byte
 * 16): it goes with the output only when that is the output's. A CMYK
 * JPEG's profile, say, must not follow its pixels once they are RGB. */
static bool icc_fits(const gi_metadata *meta, int fmt, int32_t channels) {
    const bool grey = channels <= 2 && fmt != FMT_WEBP; /* WebP writes grey as RGB */
    return meta->icc_size >= 20 && memcmp(meta->icc + 16, grey ? "GRAY" : "RGB ", 4) == 0;
}

gi_status gi_image_save_ex(const char *path, const gi_tensor *image, int32_t quality,
                           const gi_metadata *meta) {
    static const char fn[] = "gi_image_save";
    if (!path) return gi_fail(GI_E_INVALID_ARG, "%s: path is NULL", fn);
    if (!image) return gi_fail(GI_E_INVALID_ARG, "%s: image is NULL", fn);
    if (image->dtype != GI_DTYPE_U8 && image->dtype != GI_DTYPE_U16)
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: image dtype is %d, not GI_DTYPE_U8 or GI_DTYPE_U16", fn,
                       (int)image->dtype);
    if (image->c < 1 || image->c > 4)
        return gi_fail(GI_E_INVALID_ARG, "%s: image has %d channels, expected 1 to 4", fn,
                       (int)image->c);
    if (quality < 0 || quality > 100)
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: quality is %d, expected 1..100 or 0 for the default", fn,
                       (int)quality);
    const int fmt = format_of(path);
    if (fmt == FMT_NONE)
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: cannot tell the format of '%s' from its extension; "
                       "use .png, .jpg, .jpeg, .webp, .tif or .tiff",
                       fn, path);
#ifndef GI_HAVE_WEBP
    if (fmt == FMT_WEBP) return not_built(fn, path, "WebP", "webp");
#endif
#ifndef GI_HAVE_TIFF
    if (fmt == FMT_TIFF) return not_built(fn, path, "TIFF", "tiff");
#endif
    if (image->dtype == GI_DTYPE_U16 && (fmt == FMT_JPEG || fmt == FMT_WEBP))
        return gi_fail(GI_E_UNSUPPORTED,
                       "%s: '%s': %s holds 8 bits per sample and the image has 16; "
                       "save it as .png or .tif",
                       fn, path, fmt == FMT_JPEG ? "JPEG" : "WebP");
    if (fmt == FMT_JPEG && (image->w > JPEG_MAX_DIMENSION || image->h > JPEG_MAX_DIMENSION))
        return gi_fail(GI_E_UNSUPPORTED, "%s: image is %dx%d; JPEG allows at most %ld on a side",
                       fn, (int)image->w, (int)image->h, JPEG_MAX_DIMENSION);

    gi_metadata fitted;
    if (meta && meta->icc && !icc_fits(meta, fmt, image->c)) {
        fitted = *meta;
        fitted.icc = NULL;
        fitted.icc_size = 0;
        meta = &fitted;
    }
    encoder e = {.path = path, .img = image, .meta = meta};
    /* libtiff may read back what it wrote. */
    e.io.fp = fopen(path, fmt == FMT_TIFF ? "w+b" : "wb");
    if (!e.io.fp)
        return gi_fail(GI_E_IO, "%s: cannot create '%s': %s", fn, path, strerror(errno));
    gi_status st;
    switch (fmt) {
    case FMT_PNG: st = save_png(&e); break;
    case FMT_JPEG: st = save_jpeg(&e, quality ? quality : DEFAULT_JPEG_QUALITY); break;
#ifdef GI_HAVE_WEBP
    case FMT_WEBP: st = gi_save_webp(path, e.io.fp, image, quality, meta); break;
#endif
#ifdef GI_HAVE_TIFF
    case FMT_TIFF: st = gi_save_tiff(path, e.io.fp, image, meta); break;
#endif
    default: st = gi_fail(GI_E_INTERNAL, "%s: no encoder for '%s'", fn, path); break;
    }
    free(e.row);
    /* Buffered data reaches the disk at fclose: a full disk shows up here. */
    if (fclose(e.io.fp) != 0 && !st)
        st = gi_fail(GI_E_IO, "%s: cannot write '%s': %s", fn, path, strerror(errno));
    if (st) remove(path); /* no half-written file left behind */
    return st;
}

gi_status gi_image_save(const char *path, const gi_tensor *image, int32_t quality) {
    return gi_image_save_ex(path, image, quality, NULL);
}
