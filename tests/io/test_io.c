/* Image file I/O: PNG/JPEG load and save, EXIF orientation, bad files,
 * gi_image_to_mask. Every input file is written here with libpng/libjpeg
 * directly (or byte by byte), so the test needs nothing else. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "../common/check.h"
#include "gatedinpaint.h"
#include "common/alloc.h"
#include "io/codec.h"
#include "io/exif.h"

#ifdef GI_HAVE_WEBP
#define HAVE_WEBP true
#else
#define HAVE_WEBP false
#endif
#ifdef GI_HAVE_TIFF
#define HAVE_TIFF true
#else
#define HAVE_TIFF false
#endif



/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static char tmpdir[256];

static const char *tmp(const char *name) {
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void write_all(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

typedef struct {
    int w, h, depth, type, interlace;
    const uint8_t *rows; /* packed rows as PNG stores them (16-bit: big endian) */
    const png_color *palette;
    int npalette;
    const uint8_t *trans; /* palette alpha */
    int ntrans;
    const png_color_16 *trans_color; /* gray/RGB colour key */
    const uint8_t *exif;
    uint32_t exif_size;
    bool exif_after_idat;
    const uint8_t *icc;
    uint32_t icc_size;
} png_spec;

static void write_png(const char *path, const png_spec *s) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!f || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->type,
                 s->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) png_set_PLTE(png, info, s->palette, s->npalette);
    if (s->trans || s->trans_color)
        png_set_tRNS(png, info, s->trans, s->ntrans, s->trans_color);
    if (s->exif && !s->exif_after_idat)
        png_set_eXIf_1(png, info, s->exif_size, (png_bytep)s->exif);
    if (s->icc) png_set_iCCP(png, info, "test", 0, s->icc, s->icc_size);
    png_write_info(png, info);
    /* With interlacing on, png_write_image runs the Adam7 passes itself. */
    size_t rowbytes = png_get_rowbytes(png, info);
    png_bytep *rows = malloc(sizeof *rows * (size_t)s->h);
    for (int y = 0; y < s->h; y++) rows[y] = (png_bytep)s->rows + rowbytes * (size_t)y;
    png_set_interlace_handling(png);
    png_write_image(png, rows);
    free(rows);
    if (s->exif && s->exif_after_idat)
        png_set_eXIf_1(png, info, s->exif_size, (png_bytep)s->exif);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

typedef struct {
    int w, h, comps;
    J_COLOR_SPACE in_cs, jpeg_cs;
    bool no_adobe;
    const uint8_t *pixels; /* w*comps per row */
    const uint8_t *app1[2];
    size_t app1_size[2];
} jpeg_spec;

static void write_jpeg(const char *path, const jpeg_spec *s) {
    struct jpeg_compress_struct jc;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");
    if (!f) exit(1);
    jc.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&jc);
    jpeg_stdio_dest(&jc, f);
    jc.image_width = (JDIMENSION)s->w;
    jc.image_height = (JDIMENSION)s->h;
    jc.input_components = s->comps;
    jc.in_color_space = s->in_cs;
    jpeg_set_defaults(&jc);
    jpeg_set_colorspace(&jc, s->jpeg_cs);
    jpeg_set_quality(&jc, 100, TRUE);
    for (int i = 0; i < jc.num_components; i++)
        jc.comp_info[i].h_samp_factor = jc.comp_info[i].v_samp_factor = 1;
    if (s->no_adobe) jc.write_Adobe_marker = FALSE;
    jpeg_start_compress(&jc, TRUE);
    for (int i = 0; i < 2; i++)
        if (s->app1[i])
            jpeg_write_marker(&jc, JPEG_APP0 + 1, s->app1[i], (unsigned)s->app1_size[i]);
    while (jc.next_scanline < jc.image_height) {
        JSAMPROW row = (JSAMPROW)s->pixels + (size_t)jc.next_scanline * s->w * s->comps;
        jpeg_write_scanlines(&jc, &row, 1);
    }
    jpeg_finish_compress(&jc);
    jpeg_destroy_compress(&jc);
    fclose(f);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static const uint8_t *px(gi_tensor *t, int y, int x) {
    int32_t c;
    gi_tensor_shape(t, NULL, NULL, &c);
    return (const uint8_t *)gi_tensor_data(t) + (size_t)y * gi_tensor_row_stride(t) +
           (size_t)x * (size_t)c;
}

static bool shape_dtype_is(gi_tensor *t, int h, int w, int c, int32_t dtype) {
    int32_t th, tw, tc;
    return t && gi_tensor_shape(t, &th, &tw, &tc) == GI_OK && th == h && tw == w && tc == c &&
           gi_tensor_dtype(t) == dtype;
}

static bool shape_is(gi_tensor *t, int h, int w, int c) {
    return shape_dtype_is(t, h, w, c, GI_DTYPE_U8);
}

static bool near(const uint8_t *a, const uint8_t *b, int n, int tol) {
    for (int i = 0; i < n; i++)
        if (abs(a[i] - b[i]) > tol) return false;
    return true;
}

static bool mentions(const char *s) { return strstr(gi_last_error(), s) != NULL; }

/* Load expecting failure with `status`; the message must name the file. */
static void expect_load_fail(const char *path, gi_status status, const char *what) {
    gi_tensor *t = (gi_tensor *)1;
    gi_status st = gi_image_load(path, 0, &t);
    CHECK(st == status, "%s: status %d, expected %d", what, (int)st, (int)status);
    CHECK(t == NULL, "%s: out not reset", what);
    CHECK(strncmp(gi_last_error(), "gi_image_load: ", 15) == 0 && mentions(path),
          "%s: message '%s'", what, gi_last_error());
    if (st == GI_OK) gi_tensor_destroy(t);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */
/* ------------------------------------------------------------------------ */

static uint8_t pattern(int y, int x, int k) { return (uint8_t)(x * 31 + y * 17 + k * 71 + 5); }

static void test_png_roundtrip(void) {
    const int w = 7, h = 5;
    for (int c = 1; c <= 4; c++) {
        /* A wrapped tensor with padding at the end of each row: the padding
         * must not reach the file. */
        size_t stride = (size_t)w * c + 13;
        uint8_t *buf = malloc(stride * h);
        memset(buf, 0xab, stride * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++) buf[y * stride + x * c + k] = pattern(y, x, k);
        gi_tensor *t = NULL, *back = NULL;
        CHECK(gi_tensor_wrap(GI_DTYPE_U8, h, w, c, buf, stride, &t) == GI_OK, "wrap");
        const char *path = tmp(c == 3 ? "rt3.PNG" : "rt.png"); /* extension case ignored */
        CHECK(gi_image_save(path, t, 0) == GI_OK, "save %d channels", c);
        CHECK(gi_image_load(path, 0, &back) == GI_OK, "load %d channels", c);
        CHECK(shape_is(back, h, w, c), "shape after %d-channel round trip", c);
        bool same = back != NULL;
        for (int y = 0; same && y < h; y++)
            same = memcmp(px(back, y, 0), buf + y * stride, (size_t)w * c) == 0;
        CHECK(same, "pixels differ after %d-channel PNG round trip", c);
        gi_tensor_destroy(back);

        /* Conversions on load. */
        const uint8_t *p = buf + 2 * stride + 3 * c; /* pixel (2, 3) */
        uint8_t g = c <= 2 ? p[0]
                           : (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 32768u) >> 16);
        uint8_t a = c == 2 || c == 4 ? p[c - 1] : 255;
        uint8_t rgba[4] = {p[0], c <= 2 ? p[0] : p[1], c <= 2 ? p[0] : p[2], a};
        CHECK(gi_image_load(path, 1, &back) == GI_OK && shape_is(back, h, w, 1) &&
                  px(back, 2, 3)[0] == g,
              "%d -> 1 channel", c);
        gi_tensor_destroy(back);
        CHECK(gi_image_load(path, 3, &back) == GI_OK && shape_is(back, h, w, 3) &&
                  memcmp(px(back, 2, 3), rgba, 3) == 0,
              "%d -> 3 channels", c);
        gi_tensor_destroy(back);
        CHECK(gi_image_load(path, 4, &back) == GI_OK && shape_is(back, h, w, 4) &&
                  memcmp(px(back, 2, 3), rgba, 4) == 0,
              "%d -> 4 channels", c);
        gi_tensor_destroy(back);
        gi_tensor_destroy(t);
        free(buf);
    }
}

static void test_jpeg_roundtrip(void) {
    const int w = 64, h = 48;
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgba + ((size_t)y * w + x) * 4;
            p[0] = (uint8_t)(x * 4);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)(128 + (x - y));
            p[3] = (uint8_t)(x * y);
        }
    static const struct {
        int c, quality, expect_c;
        const char *name;
    } cases[] = {{3, 0, 3, "rt3.jpg"}, {3, 75, 3, "rt3q75.JPEG"}, {4, 90, 3, "rt4.jpeg"},
                 {1, 0, 1, "rt1.jpg"}, {2, 95, 1, "rt2.jpg"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int c = cases[i].c;
        /* 1 and 2 channels view the first channels of the RGBA buffer. */
        gi_tensor *t = NULL, *back = NULL;
        uint8_t *data = rgba;
        uint8_t *gray = NULL;
        if (c <= 2) {
            gray = malloc((size_t)w * h * c);
            for (size_t j = 0; j < (size_t)w * h; j++)
                for (int k = 0; k < c; k++) gray[j * c + k] = rgba[j * 4 + (k ? 3 : 0)];
            data = gray;
        } else if (c == 3) {
            data = malloc((size_t)w * h * 3);
            for (size_t j = 0; j < (size_t)w * h; j++) memcpy(data + j * 3, rgba + j * 4, 3);
        }
        gi_tensor_wrap(GI_DTYPE_U8, h, w, c, data, (size_t)w * c, &t);
        const char *path = tmp(cases[i].name);
        CHECK(gi_image_save(path, t, cases[i].quality) == GI_OK, "save %s", cases[i].name);
        CHECK(gi_image_load(path, 0, &back) == GI_OK && shape_is(back, h, w, cases[i].expect_c),
              "load %s", cases[i].name);
        if (back) {
            double sum = 0;
            int worst = 0, ec = cases[i].expect_c;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < ec; k++) {
                        int d = abs(px(back, y, x)[k] - data[((size_t)y * w + x) * c + k]);
                        sum += d;
                        if (d > worst) worst = d;
                    }
            double mean = sum / ((double)w * h * ec);
            CHECK(mean < 2.5 && worst < 32, "%s: mean error %.2f, max %d", cases[i].name, mean,
                  worst);
        }
        gi_tensor_destroy(back);
        gi_tensor_destroy(t);
        if (data != rgba) free(data);
    }
    free(rgba);
}

/* ------------------------------------------------------------------------ */
/* PNG variants                                                              */
/* ------------------------------------------------------------------------ */

static void test_png_16bit(void) {
    /* 3x2 RGB, 16 bits: multiples of 257 map exactly, others round to the nearest
     * 8-bit value; 0x00FF, 0x12FF and 0x20C0 round up where dropping the low byte
     * would give 0, 0x12 and 0x20. */
    uint16_t v[2][9] = {{0, 257, 65535, 257 * 10, 257 * 200, 0x1234, 0x00FF, 0x12FF, 0x20C0},
                        {65535, 65535, 65535, 0, 0, 0, 257 * 77, 257 * 78, 257 * 79}};
    uint8_t rows[2][18];
    for (int y = 0; y < 2; y++)
        for (int i = 0; i < 9; i++) {
            rows[y][2 * i] = (uint8_t)(v[y][i] >> 8);
            rows[y][2 * i + 1] = (uint8_t)v[y][i];
        }
    png_spec s = {.w = 3, .h = 2, .depth = 16, .type = PNG_COLOR_TYPE_RGB, .rows = &rows[0][0]};
    write_png(tmp("16.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load(tmp("16.png"), 0, &t) == GI_OK && shape_is(t, 2, 3, 3), "16-bit load");
    if (t) {
        bool ok = true;
        for (int y = 0; y < 2; y++)
            for (int i = 0; i < 9; i++) {
                int want = (int)((v[y][i] * 255.0) / 65535.0 + 0.5);
                ok &= px(t, y, i / 3)[i % 3] == want;
            }
        CHECK(ok, "16-bit values rounded to 8 bits");
        CHECK(px(t, 0, 0)[1] == 1 && px(t, 1, 2)[0] == 77, "exact multiples of 257");
    }
    gi_tensor_destroy(t);
}

static void test_png_palette(void) {
    static const png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 8, 7}};
    static const uint8_t alpha[2] = {0, 128};
    /* 2-bit indices, 5 pixels: 0 1 2 3 1 -> 00 01 10 11 | 01 000000 */
    static const uint8_t rows[2] = {0x1b, 0x40};
    png_spec s = {.w = 5, .h = 1, .depth = 2, .type = PNG_COLOR_TYPE_PALETTE, .rows = rows,
                  .palette = pal, .npalette = 4, .trans = alpha, .ntrans = 2};
    write_png(tmp("pal_trns.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load(tmp("pal_trns.png"), 0, &t) == GI_OK && shape_is(t, 1, 5, 4),
          "palette+tRNS -> RGBA");
    if (t) {
        static const uint8_t want[5][4] = {
            {255, 0, 0, 0}, {0, 255, 0, 128}, {0, 0, 255, 255}, {9, 8, 7, 255}, {0, 255, 0, 128}};
        bool ok = true;
        for (int x = 0; x < 5; x++) ok &= memcmp(px(t, 0, x), want[x], 4) == 0;
        CHECK(ok, "palette+tRNS pixels");
    }
    gi_tensor_destroy(t);

    s.trans = NULL;
    s.ntrans = 0;
    write_png(tmp("pal.png"), &s);
    CHECK(gi_image_load(tmp("pal.png"), 0, &t) == GI_OK && shape_is(t, 1, 5, 3) &&
              memcmp(px(t, 0, 3), "\x09\x08\x07", 3) == 0,
          "palette -> RGB");
    gi_tensor_destroy(t);
}

static void test_png_gray_variants(void) {
    /* 1-bit gray, 9 pixels: 1 0 1 1 0 0 0 1 | 1 */
    static const uint8_t bits[2] = {0xb1, 0x80};
    png_spec s = {.w = 9, .h = 1, .depth = 1, .type = PNG_COLOR_TYPE_GRAY, .rows = bits};
    write_png(tmp("g1.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load(tmp("g1.png"), 0, &t) == GI_OK && shape_is(t, 1, 9, 1), "1-bit gray");
    if (t) {
        static const uint8_t want[9] = {255, 0, 255, 255, 0, 0, 0, 255, 255};
        CHECK(memcmp(px(t, 0, 0), want, 9) == 0, "1-bit gray expanded to 0/255");
    }
    gi_tensor_destroy(t);

    /* 8-bit gray with a tRNS colour key -> gray+alpha. */
    static const uint8_t g8[3] = {10, 20, 30};
    png_color_16 key = {.gray = 20};
    png_spec k = {.w = 3, .h = 1, .depth = 8, .type = PNG_COLOR_TYPE_GRAY, .rows = g8,
                  .trans_color = &key};
    write_png(tmp("gkey.png"), &k);
    CHECK(gi_image_load(tmp("gkey.png"), 0, &t) == GI_OK && shape_is(t, 1, 3, 2) &&
              memcmp(px(t, 0, 0), "\x0a\xff\x14\x00\x1e\xff", 6) == 0,
          "gray with tRNS -> gray+alpha");
    gi_tensor_destroy(t);

    /* Gray+alpha as stored. */
    static const uint8_t ga[2][4] = {{1, 2, 3, 4}, {250, 0, 7, 128}};
    png_spec a = {.w = 2, .h = 2, .depth = 8, .type = PNG_COLOR_TYPE_GRAY_ALPHA,
                  .rows = &ga[0][0]};
    write_png(tmp("ga.png"), &a);
    CHECK(gi_image_load(tmp("ga.png"), 0, &t) == GI_OK && shape_is(t, 2, 2, 2) &&
              memcmp(px(t, 0, 0), ga[0], 4) == 0 && memcmp(px(t, 1, 0), ga[1], 4) == 0,
          "gray+alpha");
    gi_tensor_destroy(t);
}

static void test_png_interlaced(void) {
    enum { W = 13, H = 11 };
    static uint8_t rows[H][W * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W * 3; x++) rows[y][x] = pattern(y, x, 1);
    png_spec s = {.w = W, .h = H, .depth = 8, .type = PNG_COLOR_TYPE_RGB,
                  .interlace = PNG_INTERLACE_ADAM7, .rows = &rows[0][0]};
    write_png(tmp("adam7.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load(tmp("adam7.png"), 0, &t) == GI_OK && shape_is(t, H, W, 3),
          "interlaced load");
    bool same = t != NULL;
    for (int y = 0; same && y < H; y++) same = memcmp(px(t, y, 0), rows[y], W * 3) == 0;
    CHECK(same, "interlaced pixels");
    gi_tensor_destroy(t);
}

/* ------------------------------------------------------------------------ */
/* EXIF orientation                                                          */
/* ------------------------------------------------------------------------ */

/* A TIFF block with IFD0 = {Make "Cam", Orientation = o}, optionally after
 * the "Exif\0\0" prefix of a JPEG APP1. Returns its size. */
static size_t make_exif(uint8_t *b, int o, bool big, bool app1) {
    size_t n = 0;
    if (app1) {
        memcpy(b, "Exif\0\0", 6);
        n = 6;
    }
    uint8_t *t = b + n;
#define PUT16(p, v) (big ? ((p)[0] = (uint8_t)((v) >> 8), (p)[1] = (uint8_t)(v)) \
                         : ((p)[1] = (uint8_t)((v) >> 8), (p)[0] = (uint8_t)(v)))
#define PUT32(p, v) (PUT16((p) + (big ? 2 : 0), (v) & 0xffff), PUT16((p) + (big ? 0 : 2), (v) >> 16))
    memset(t, 0, 38);
    memcpy(t, big ? "MM" : "II", 2);
    PUT16(t + 2, 42);
    PUT32(t + 4, 8u);
    PUT16(t + 8, 2); /* two entries */
    uint8_t *e = t + 10;
    PUT16(e, 0x010f); /* Make, ASCII, 4 bytes inline */
    PUT16(e + 2, 2);
    PUT32(e + 4, 4u);
    memcpy(e + 8, "Cam", 4);
    e += 12;
    PUT16(e, 0x0112); /* Orientation, SHORT, 1 */
    PUT16(e + 2, 3);
    PUT32(e + 4, 1u);
    PUT16(e + 8, o);
    /* next-IFD offset: 0 (already zeroed) */
#undef PUT16
#undef PUT32
    return n + 38;
}

static void test_exif_parser(void) {
    uint8_t b[64];
    for (int o = 1; o <= 8; o++) {
        size_t n = make_exif(b, o, o % 2, false);
        CHECK(gi_exif_orientation_tiff(b, n) == o, "TIFF orientation %d", o);
        n = make_exif(b, o, o % 2 == 0, true);
        CHECK(gi_exif_orientation_app1(b, n) == o, "APP1 orientation %d", o);
    }
    size_t n = make_exif(b, 6, false, false);
    CHECK(gi_exif_orientation_tiff(b, n - 4) == 6, "missing next-IFD offset is harmless");
    CHECK(gi_exif_orientation_tiff(b, 30) == 1, "truncated entry is ignored");
    CHECK(gi_exif_orientation_tiff(b, 7) == 1, "short block");
    CHECK(gi_exif_orientation_tiff(NULL, 0) == 1, "NULL block");
    b[4] = 200; /* IFD offset past the end */
    CHECK(gi_exif_orientation_tiff(b, n) == 1, "IFD offset out of range");
    make_exif(b, 6, false, false);
    b[8] = 0xff; /* entry count far too large: only the entries that fit count */
    b[9] = 0xff;
    CHECK(gi_exif_orientation_tiff(b, n) == 6, "oversized entry count is clipped");
    make_exif(b, 9, false, false);
    CHECK(gi_exif_orientation_tiff(b, n) == 1, "orientation 9 is invalid");
    make_exif(b, 6, false, false);
    b[2] = 43;
    CHECK(gi_exif_orientation_tiff(b, n) == 1, "bad TIFF magic");
    make_exif(b, 6, true, false);
    b[25] = 4; /* Orientation as LONG: value 6 big endian in 4 bytes */
    b[30] = 0, b[31] = 0, b[32] = 0, b[33] = 6;
    CHECK(gi_exif_orientation_tiff(b, n) == 6, "orientation stored as LONG");
    CHECK(gi_exif_orientation_app1((const uint8_t *)"http://ns.adobe.com/xap/1.0/", 29) == 0,
          "XMP APP1 is not EXIF");
}

#define QR 0
#define QG 1
#define QB 2
#define QW 3
static const uint8_t quad_rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

/* For each orientation, the quadrants of the stored image ([top][left..right]
 * then bottom) whose upright view is {{R, G}, {B, W}} (checked with PIL's
 * ImageOps.exif_transpose). */
static const int stored_quads[9][4] = {
    {0},
    {QR, QG, QB, QW}, {QG, QR, QW, QB}, {QW, QB, QG, QR}, {QB, QW, QR, QG},
    {QR, QB, QG, QW}, {QG, QW, QR, QB}, {QW, QG, QB, QR}, {QB, QR, QW, QG},
};

static void test_exif_jpeg(void) {
    enum { UW = 48, UH = 32 };
    for (int o = 1; o <= 8; o++) {
        int sw = o >= 5 ? UH : UW, sh = o >= 5 ? UW : UH;
        uint8_t *pix = malloc((size_t)sw * sh * 3);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                memcpy(pix + ((size_t)y * sw + x) * 3,
                       quad_rgb[stored_quads[o][(2 * y / sh) * 2 + 2 * x / sw]], 3);
        uint8_t exif[64];
        static const uint8_t xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>";
        jpeg_spec s = {.w = sw, .h = sh, .comps = 3, .in_cs = JCS_RGB, .jpeg_cs = JCS_YCbCr,
                       .pixels = pix};
        /* Odd orientations put an XMP APP1 first: the EXIF one must be found. */
        int slot = o % 2;
        s.app1[0] = xmp;
        s.app1_size[0] = sizeof xmp;
        s.app1[slot] = exif;
        s.app1_size[slot] = make_exif(exif, o, o > 4, true);
        char name[32];
        snprintf(name, sizeof name, "exif%d.jpg", o);
        write_jpeg(tmp(name), &s);
        free(pix);

        gi_tensor *t = NULL;
        CHECK(gi_image_load(tmp(name), 0, &t) == GI_OK && shape_is(t, UH, UW, 3),
              "orientation %d: upright shape", o);
        if (!t) continue;
        bool ok = true;
        for (int q = 0; q < 4; q++) {
            int y = (q / 2) * UH / 2 + UH / 4, x = (q % 2) * UW / 2 + UW / 4;
            ok &= near(px(t, y, x), quad_rgb[q], 3, 6);
        }
        CHECK(ok, "orientation %d: quadrants upright", o);
        gi_tensor_destroy(t);
    }
}

static void test_exif_png(void) {
    /* Upright {{a b c}, {d e f}} stored rotated for orientation 6 as
     * {{c f}, {b e}, {a d}}; gray values stand for the letters. */
    static const uint8_t stored6[3][2] = {{3, 6}, {2, 5}, {1, 4}};
    uint8_t exif[64];
    png_spec s = {.w = 2, .h = 3, .depth = 8, .type = PNG_COLOR_TYPE_GRAY,
                  .rows = &stored6[0][0], .exif = exif,
                  .exif_size = (uint32_t)make_exif(exif, 6, true, false)};
    write_png(tmp("exif6.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load(tmp("exif6.png"), 0, &t) == GI_OK && shape_is(t, 2, 3, 1) &&
              memcmp(px(t, 0, 0), "\1\2\3", 3) == 0 && memcmp(px(t, 1, 0), "\4\5\6", 3) == 0,
          "PNG eXIf orientation 6");
    gi_tensor_destroy(t);

    /* Orientation 3 in an eXIf chunk after the image data; RGBA stays RGBA. */
    static const uint8_t rgba[1][8] = {{1, 2, 3, 4, 5, 6, 7, 8}};
    png_spec r = {.w = 2, .h = 1, .depth = 8, .type = PNG_COLOR_TYPE_RGBA,
                  .rows = &rgba[0][0], .exif = exif,
                  .exif_size = (uint32_t)make_exif(exif, 3, false, false),
                  .exif_after_idat = true};
    write_png(tmp("exif3.png"), &r);
    CHECK(gi_image_load(tmp("exif3.png"), 0, &t) == GI_OK && shape_is(t, 1, 2, 4) &&
              memcmp(px(t, 0, 0), "\5\6\7\10\1\2\3\4", 8) == 0,
          "PNG eXIf after IDAT, orientation 3");
    gi_tensor_destroy(t);
}

/* ------------------------------------------------------------------------ */
/* CMYK JPEG                                                                 */
/* ------------------------------------------------------------------------ */

static void test_cmyk(void) {
    enum { W = 32, H = 16 };
    /* Left half: pure colour with no black; right half: half black. Adobe
     * files store inverted values (255 = no ink). */
    static const uint8_t want[2][3] = {{200, 100, 30}, {128, 128, 128}};
    static uint8_t inv[H][W][4], ink[H][W][4];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool right = x >= W / 2;
            const uint8_t *rgb = want[right];
            for (int k = 0; k < 3; k++) {
                inv[y][x][k] = right ? 255 : rgb[k];
                ink[y][x][k] = (uint8_t)(255 - inv[y][x][k]);
            }
            inv[y][x][3] = right ? 128 : 255;
            ink[y][x][3] = (uint8_t)(255 - inv[y][x][3]);
        }
    static const struct {
        const char *name;
        J_COLOR_SPACE cs;
        bool no_adobe;
    } cases[] = {{"cmyk_adobe.jpg", JCS_CMYK, false},
                 {"ycck_adobe.jpg", JCS_YCCK, false},
                 {"cmyk_plain.jpg", JCS_CMYK, true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jpeg_spec s = {.w = W, .h = H, .comps = 4, .in_cs = JCS_CMYK, .jpeg_cs = cases[i].cs,
                       .no_adobe = cases[i].no_adobe,
                       .pixels = cases[i].no_adobe ? &ink[0][0][0] : &inv[0][0][0]};
        write_jpeg(tmp(cases[i].name), &s);
        gi_tensor *t = NULL;
        CHECK(gi_image_load(tmp(cases[i].name), 0, &t) == GI_OK && shape_is(t, H, W, 3),
              "%s loads as RGB", cases[i].name);
        if (t)
            CHECK(near(px(t, 8, 4), want[0], 3, 3) && near(px(t, 8, 27), want[1], 3, 3),
                  "%s colours: (%d %d %d) (%d %d %d)", cases[i].name, px(t, 8, 4)[0],
                  px(t, 8, 4)[1], px(t, 8, 4)[2], px(t, 8, 27)[0], px(t, 8, 27)[1],
                  px(t, 8, 27)[2]);
        gi_tensor_destroy(t);
    }
}

/* ------------------------------------------------------------------------ */
/* Broken and hostile files                                                  */
/* ------------------------------------------------------------------------ */

static void test_truncated(void) {
    /* Noise so the compressed data spans many bytes. */
    enum { W = 40, H = 30 };
    static uint8_t pix[H * W * 3];
    uint32_t r = 12345;
    for (size_t i = 0; i < sizeof pix; i++) pix[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 16);
    gi_tensor *t = NULL;
    gi_tensor_wrap(GI_DTYPE_U8, H, W, 3, pix, W * 3, &t);
    const char *srcs[2] = {"noise.png", "noise.jpg"};
    for (int f = 0; f < 2; f++) {
        CHECK(gi_image_save(tmp(srcs[f]), t, 0) == GI_OK, "save %s", srcs[f]);
        size_t size;
        uint8_t *data = read_all(tmp(srcs[f]), &size);
        if (!data) continue;
        size_t cuts[] = {1, 3, 8, 20, 33, 100, size / 2, size - 13, size - 2, size - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            char name[64], what[96];
            snprintf(name, sizeof name, "cut%zu_%s", cuts[i], srcs[f]);
            write_all(tmp(name), data, cuts[i]);
            snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", srcs[f], cuts[i], size);
            expect_load_fail(tmp(name), GI_E_IO, what);
        }
        /* Damage in the middle, length intact. PNG has CRCs; JPEG has no
         * checksum, so its damage must be structural: an EOI in the scan. */
        if (f == 0)
            for (size_t j = size / 2; j < size / 2 + 16; j++) data[j] ^= 0x5a;
        else
            memcpy(data + size / 2, "\xff\xd9", 2);
        write_all(tmp("damaged"), data, size);
        expect_load_fail(tmp("damaged"), GI_E_IO, "damaged compressed data");
        free(data);
    }
    gi_tensor_destroy(t);

    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)(i * 7 + 3);
    write_all(tmp("garbage.png"), garbage, sizeof garbage);
    expect_load_fail(tmp("garbage.png"), GI_E_IO, "garbage");
    CHECK(mentions("is not a PNG, JPEG"), "garbage message: %s", gi_last_error());
    memcpy(garbage, "\x89PNG\r\n\x1a\n", 8);
    write_all(tmp("garbage2.png"), garbage, sizeof garbage);
    expect_load_fail(tmp("garbage2.png"), GI_E_IO, "PNG signature then garbage");
    memcpy(garbage, "\xff\xd8\xff", 3);
    write_all(tmp("garbage3.jpg"), garbage, sizeof garbage);
    expect_load_fail(tmp("garbage3.jpg"), GI_E_IO, "JPEG SOI then garbage");
    write_all(tmp("empty.png"), garbage, 0);
    expect_load_fail(tmp("empty.png"), GI_E_IO, "empty file");
    expect_load_fail(tmp("does-not-exist.png"), GI_E_IO, "nonexistent file");
    CHECK(mentions(strerror(ENOENT)), "nonexistent: %s", gi_last_error());
    expect_load_fail(tmpdir, GI_E_IO, "a directory");
}

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static size_t put_chunk(uint8_t *b, const char *type, const uint8_t *data, uint32_t n) {
    b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8), b[3] = (uint8_t)n;
    memcpy(b + 4, type, 4);
    if (n) memcpy(b + 8, data, n);
    uint32_t crc = crc32_png(b + 4, n + 4);
    uint8_t *c = b + 8 + n;
    c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
    return 12 + n;
}

/* A PNG whose IHDR declares w x h RGBA, followed by a tiny IDAT and IEND. */
static void write_png_header_only(const char *path, uint32_t w, uint32_t h) {
    uint8_t b[128], ihdr[13] = {0};
    size_t n = 8;
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)(w >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8;
    ihdr[9] = PNG_COLOR_TYPE_RGBA;
    n += put_chunk(b + n, "IHDR", ihdr, 13);
    static const uint8_t idat[] = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    n += put_chunk(b + n, "IDAT", idat, sizeof idat);
    n += put_chunk(b + n, "IEND", NULL, 0);
    write_all(path, b, n);
}

static void test_huge(void) {
    write_png_header_only(tmp("huge.png"), 100000, 100000);
    expect_load_fail(tmp("huge.png"), GI_E_UNSUPPORTED, "100000x100000 PNG");
    CHECK(mentions("100000x100000"), "huge message: %s", gi_last_error());
    write_png_header_only(tmp("many.png"), 20000, 20000); /* sides fine, 4e8 pixels */
    expect_load_fail(tmp("many.png"), GI_E_UNSUPPORTED, "20000x20000 PNG");
    /* 50000 x 50000 RGBA would be 10 GB: refused from the header by the size
     * check (GI_E_UNSUPPORTED), with no allocation of even 1 MiB. */
    write_png_header_only(tmp("50k.png"), 50000, 50000);
    gi_alloc_fail_after(INT64_MAX, 0); /* count only */
    expect_load_fail(tmp("50k.png"), GI_E_UNSUPPORTED, "50000x50000 PNG");
    CHECK(gi_alloc_largest() < ((size_t)1 << 20), "50k PNG: %zu bytes allocated at once",
          gi_alloc_largest());
    gi_alloc_fail_after(-1, 0);
    CHECK(mentions("50000x50000") && mentions("the limit is"), "50k message: %s", gi_last_error());
    /* The small header-only file is otherwise a valid start: the same code
     * path with a sane size reaches the decoder and fails on the data. */
    write_png_header_only(tmp("small.png"), 16, 16);
    expect_load_fail(tmp("small.png"), GI_E_IO, "16x16 PNG without pixels");

    /* A real JPEG with its SOF dimensions patched to 60000x60000. */
    static uint8_t pix[16 * 16 * 3];
    jpeg_spec s = {.w = 16, .h = 16, .comps = 3, .in_cs = JCS_RGB, .jpeg_cs = JCS_YCbCr,
                   .pixels = pix};
    write_jpeg(tmp("huge.jpg"), &s);
    size_t size;
    uint8_t *data = read_all(tmp("huge.jpg"), &size);
    bool patched = false;
    for (size_t i = 2; data && i + 9 < size && !patched; i++)
        if (data[i] == 0xff && data[i + 1] == 0xc0) { /* SOF0: len(2) P(1) Y(2) X(2) */
            data[i + 5] = data[i + 7] = 0xea;
            data[i + 6] = data[i + 8] = 0x60;
            patched = true;
        }
    CHECK(patched, "SOF0 found");
    write_all(tmp("huge.jpg"), data, size);
    free(data);
    expect_load_fail(tmp("huge.jpg"), GI_E_UNSUPPORTED, "60000x60000 JPEG");
}

/* ------------------------------------------------------------------------ */
/* 16 bits, metadata, WebP and TIFF                                          */
/* ------------------------------------------------------------------------ */

/* A W x H tensor of `dtype` with c channels of noise. */
static gi_tensor *noise(int32_t dtype, int h, int w, int c, uint32_t seed) {
    gi_tensor *t = NULL;
    CHECK(gi_tensor_create(dtype, h, w, c, &t) == GI_OK, "create");
    uint8_t *p = gi_tensor_data(t);
    for (size_t i = 0; i < gi_tensor_row_stride(t) * (size_t)h; i++)
        p[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
    return t;
}

static bool same_tensor(gi_tensor *a, gi_tensor *b) {
    int32_t ha, wa, ca, hb, wb, cb;
    if (!a || !b || gi_tensor_dtype(a) != gi_tensor_dtype(b)) return false;
    gi_tensor_shape(a, &ha, &wa, &ca);
    gi_tensor_shape(b, &hb, &wb, &cb);
    return ha == hb && wa == wb && ca == cb &&
           memcmp(gi_tensor_data(a), gi_tensor_data(b), gi_tensor_row_stride(a) * (size_t)ha) == 0;
}

/* Save `t` to `name`, load it back with `flags`: the same tensor? */
static bool round_trip(gi_tensor *t, const char *name, int32_t flags) {
    gi_tensor *back = NULL;
    gi_status st = gi_image_save(tmp(name), t, 0);
    CHECK(st == GI_OK, "save %s: %s", name, gi_last_error());
    st = gi_image_load_ex(tmp(name), 0, flags, &back, NULL);
    CHECK(st == GI_OK, "load %s: %s", name, gi_last_error());
    bool same = same_tensor(t, back);
    gi_tensor_destroy(back);
    return same;
}

/* Every cut of the file at `name` must fail to load with GI_E_IO. */
static void expect_truncations_fail(const char *name) {
    size_t size;
    uint8_t *data = read_all(tmp(name), &size);
    if (!data) return;
    size_t cuts[] = {1, 4, 11, 12, 30, size / 3, size / 2, size - 9, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char cut[64], what[96];
        snprintf(cut, sizeof cut, "cut%zu_%s", cuts[i], name);
        write_all(tmp(cut), data, cuts[i]);
        snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", name, cuts[i], size);
        expect_load_fail(tmp(cut), GI_E_IO, what);
    }
    free(data);
}

static void test_16bit_kept(void) {
    /* Written by libpng directly (big-endian samples), read exactly. */
    static const uint16_t v[6] = {0, 1, 0x1234, 0xfedc, 65535, 257 * 9 + 100};
    uint8_t rows[12];
    for (int i = 0; i < 6; i++) rows[2 * i] = (uint8_t)(v[i] >> 8), rows[2 * i + 1] = (uint8_t)v[i];
    png_spec s = {.w = 2, .h = 1, .depth = 16, .type = PNG_COLOR_TYPE_RGB, .rows = rows};
    write_png(tmp("k16.png"), &s);
    gi_tensor *t = NULL;
    CHECK(gi_image_load_ex(tmp("k16.png"), 0, GI_LOAD_16BIT, &t, NULL) == GI_OK &&
              shape_dtype_is(t, 1, 2, 3, GI_DTYPE_U16) &&
              memcmp(gi_tensor_data(t), v, sizeof v) == 0,
          "16-bit PNG kept: %s", gi_last_error());
    gi_tensor_destroy(t);
    t = NULL;
    CHECK(gi_image_load_ex(tmp("k16.png"), 1, GI_LOAD_16BIT, &t, NULL) == GI_OK &&
              shape_dtype_is(t, 1, 2, 1, GI_DTYPE_U16) &&
              ((uint16_t *)gi_tensor_data(t))[1] ==
                  (uint16_t)((19595u * 0xfedcu + 38470u * 65535u + 7471u * v[5] + 32768u) >> 16),
          "16-bit PNG to grey at 16 bits");
    gi_tensor_destroy(t);
    CHECK(gi_image_load_ex(tmp("k16.png"), 0, 0, &t, NULL) == GI_OK &&
              gi_tensor_dtype(t) == GI_DTYPE_U8,
          "without the flag: 8 bits, as gi_image_load");
    gi_tensor_destroy(t);
    CHECK_ERR(gi_image_load_ex(tmp("k16.png"), 0, 4, &t, NULL), GI_E_INVALID_ARG, "flags");

    /* Saved at 16 bits, every channel count, read back bit-exact. */
    for (int c = 1; c <= 4; c++) {
        gi_tensor *n16 = noise(GI_DTYPE_U16, 7, 9, c, (uint32_t)c);
        CHECK(round_trip(n16, "n16.png", GI_LOAD_16BIT), "16-bit PNG round trip, %d channels", c);
        CHECK_ERR(gi_image_save(tmp("n16.jpg"), n16, 0), GI_E_UNSUPPORTED, "8 bits");
        gi_tensor_destroy(n16);
    }
}

/* A small ICC profile libpng accepts: the 128-byte header, no tags, and
 * filler in the reserved bytes and after the tag count (libpng reads a
 * profile that compresses to almost nothing as "too short"). */
enum { ICC_SIZE = 160 };
static void make_icc(uint8_t icc[ICC_SIZE], const char *space) {
    for (int i = 0; i < ICC_SIZE; i++) icc[i] = (uint8_t)(i * 7 + 3);
    memset(icc, 0, 84);
    memset(icc + 128, 0, 4);        /* no tags */
    icc[3] = ICC_SIZE;              /* size */
    icc[8] = 2, icc[9] = 0x10;      /* version 2.1 */
    memcpy(icc + 12, "mntr", 4);    /* display class */
    memcpy(icc + 16, space, 4);     /* "RGB " or "GRAY" */
    memcpy(icc + 20, "XYZ ", 4);    /* connection space */
    memcpy(icc + 36, "acsp", 4);
    static const uint8_t d50[12] = {0, 0, 0xf6, 0xd6, 0, 1, 0, 0, 0, 0, 0xd3, 0x2d};
    memcpy(icc + 68, d50, 12);
}

static bool block_is(const gi_metadata *m, int32_t kind, const void *want, size_t n) {
    const void *data = NULL;
    size_t size = 1;
    return gi_metadata_get(m, kind, &data, &size) == GI_OK && size == n &&
           (n == 0 ? data == NULL : memcmp(data, want, n) == 0);
}

static void test_metadata(void) {
    uint8_t icc[ICC_SIZE], exif[64];
    make_icc(icc, "RGB ");
    const size_t exif_size = make_exif(exif, 6, true, false);
    static uint8_t rgb[3][2 * 3];
    png_spec s = {.w = 2, .h = 3, .depth = 8, .type = PNG_COLOR_TYPE_RGB, .rows = &rgb[0][0],
                  .exif = exif, .exif_size = (uint32_t)exif_size, .icc = icc, .icc_size = ICC_SIZE};
    write_png(tmp("meta.png"), &s);
    gi_tensor *t = NULL;
    gi_metadata *m = NULL;
    CHECK(gi_image_load_ex(tmp("meta.png"), 0, 0, &t, &m) == GI_OK && shape_is(t, 2, 3, 3),
          "load with metadata: %s", gi_last_error());
    /* Turned upright, so the copy says orientation 1; all else is as found. */
    uint8_t upright[64];
    make_exif(upright, 1, true, false);
    CHECK(block_is(m, GI_META_ICC, icc, ICC_SIZE), "ICC profile read from iCCP");
    CHECK(block_is(m, GI_META_EXIF, upright, exif_size), "EXIF read, orientation set to 1");

    const char *names[] = {"meta_out.png", "meta_out.jpg", "meta_out.webp", "meta_out.tif"};
    const bool built[] = {true, true, HAVE_WEBP, HAVE_TIFF};
    const bool holds_exif[] = {true, true, true, false};
    for (int i = 0; i < 4; i++) {
        if (!built[i]) continue;
        gi_tensor *back = NULL;
        gi_metadata *mb = NULL;
        CHECK(gi_image_save_ex(tmp(names[i]), t, 0, m) == GI_OK, "save %s: %s", names[i],
              gi_last_error());
        CHECK(gi_image_load_ex(tmp(names[i]), 0, 0, &back, &mb) == GI_OK && shape_is(back, 2, 3, 3),
              "reload %s: %s", names[i], gi_last_error());
        CHECK(block_is(mb, GI_META_ICC, icc, ICC_SIZE), "%s carries the ICC profile", names[i]);
        CHECK(holds_exif[i] ? block_is(mb, GI_META_EXIF, upright, exif_size)
                            : block_is(mb, GI_META_EXIF, NULL, 0),
              "%s: EXIF %s", names[i], holds_exif[i] ? "carried" : "not written");
        gi_tensor_destroy(back);
        gi_metadata_destroy(mb);
    }
    /* A profile of another colour space stays behind: GRAY goes with grey
     * PNG and JPEG only (WebP writes grey as RGB). */
    uint8_t grey_icc[ICC_SIZE];
    make_icc(grey_icc, "GRAY");
    struct gi_metadata grey_meta = {.icc = grey_icc, .icc_size = ICC_SIZE};
    gi_tensor *grey = noise(GI_DTYPE_U8, 3, 2, 1, 5);
    const struct {
        const char *name;
        gi_tensor *img;
        bool kept;
    } fits[] = {{"g_rgb.png", t, false}, {"g_rgb.jpg", t, false},   {"g_grey.png", grey, true},
                {"g_grey.jpg", grey, true}, {"g_grey.webp", grey, false}};
    for (size_t i = 0; i < sizeof fits / sizeof *fits; i++) {
        if (!HAVE_WEBP && strstr(fits[i].name, ".webp")) continue;
        gi_tensor *back = NULL;
        gi_metadata *mb = NULL;
        CHECK(gi_image_save_ex(tmp(fits[i].name), fits[i].img, 0, &grey_meta) == GI_OK &&
                  gi_image_load_ex(tmp(fits[i].name), 0, 0, &back, &mb) == GI_OK,
              "%s with a GRAY profile: %s", fits[i].name, gi_last_error());
        CHECK(fits[i].kept ? block_is(mb, GI_META_ICC, grey_icc, ICC_SIZE)
                           : block_is(mb, GI_META_ICC, NULL, 0),
              "%s: the GRAY profile %s", fits[i].name, fits[i].kept ? "kept" : "left out");
        gi_tensor_destroy(back);
        gi_metadata_destroy(mb);
    }
    gi_tensor_destroy(grey);

    /* Without meta nothing is written; a file without either gives an empty one. */
    CHECK(gi_image_save_ex(tmp("plain.png"), t, 0, NULL) == GI_OK, "save without metadata");
    gi_metadata_destroy(m);
    m = NULL;
    gi_tensor_destroy(t);
    CHECK(gi_image_load_ex(tmp("plain.png"), 0, 0, &t, &m) == GI_OK &&
              block_is(m, GI_META_ICC, NULL, 0) && block_is(m, GI_META_EXIF, NULL, 0),
          "no metadata: empty blocks");
    const void *d;
    size_t n;
    CHECK_ERR(gi_metadata_get(m, 9, &d, &n), GI_E_INVALID_ARG, "kind is 9");
    CHECK_ERR(gi_metadata_get(NULL, GI_META_ICC, &d, &n), GI_E_INVALID_ARG, "meta is NULL");
    gi_metadata_destroy(m);
    gi_metadata_destroy(NULL);
    gi_tensor_destroy(t);
}

static void test_webp(void) {
    gi_tensor *rgb = noise(GI_DTYPE_U8, 30, 40, 3, 7), *rgba = noise(GI_DTYPE_U8, 30, 40, 4, 8);
    if (!HAVE_WEBP) {
        CHECK_ERR(gi_image_save(tmp("x.webp"), rgb, 0), GI_E_UNSUPPORTED, "-Dwebp=enabled");
        write_all(tmp("fake.webp"), "RIFF\x20\0\0\0WEBPVP8 ", 16);
        expect_load_fail(tmp("fake.webp"), GI_E_UNSUPPORTED, "WebP in a build without it");
        CHECK(mentions("no WebP support"), "names the missing feature: %s", gi_last_error());
    } else {
        CHECK(round_trip(rgb, "rgb.webp", 0), "WebP lossless RGB round trip");
        CHECK(round_trip(rgba, "rgba.webp", 0), "WebP lossless RGBA round trip");
        gi_tensor *grey = noise(GI_DTYPE_U8, 30, 40, 1, 9), *back = NULL, *as_rgb = NULL;
        gi_image_save(tmp("grey.webp"), grey, 0);
        CHECK(gi_image_load(tmp("grey.webp"), 0, &back) == GI_OK && shape_is(back, 30, 40, 3) &&
                  gi_image_save(tmp("grey3.png"), grey, 0) == GI_OK &&
                  gi_image_load(tmp("grey3.png"), 3, &as_rgb) == GI_OK && same_tensor(back, as_rgb),
              "WebP has no grey: saved as RGB");
        gi_tensor_destroy(back), gi_tensor_destroy(as_rgb), gi_tensor_destroy(grey);
        back = NULL;
        CHECK(gi_image_save(tmp("lossy.webp"), rgb, 80) == GI_OK &&
                  gi_image_load(tmp("lossy.webp"), 0, &back) == GI_OK && shape_is(back, 30, 40, 3),
              "WebP lossy at quality 80");
        gi_tensor_destroy(back);
        gi_tensor *n16 = noise(GI_DTYPE_U16, 4, 4, 3, 1);
        CHECK_ERR(gi_image_save(tmp("n16.webp"), n16, 0), GI_E_UNSUPPORTED, "8 bits");
        gi_tensor_destroy(n16);
        expect_truncations_fail("rgb.webp");
    }
    gi_tensor_destroy(rgb), gi_tensor_destroy(rgba);
}

/* Set a SHORT or LONG tag of IFD0 in a little-endian TIFF as libtiff
 * writes it (a SHORT becomes a LONG for a larger value). */
static bool patch_tiff_tag(uint8_t *b, size_t size, unsigned tag, uint32_t v) {
    if (size < 8 || memcmp(b, "II*\0", 4) != 0) return false;
    uint32_t ifd = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
    if (ifd + 2 > size) return false;
    unsigned n = b[ifd] | b[ifd + 1] << 8;
    for (unsigned i = 0; i < n && ifd + 2 + 12 * (i + 1) <= size; i++) {
        uint8_t *e = b + ifd + 2 + 12 * i;
        if ((unsigned)(e[0] | e[1] << 8) != tag) continue;
        if ((e[2] | e[3] << 8) == 3 && v > 65535) e[2] = 4; /* SHORT -> LONG */
        for (int k = 0; k < 4; k++) e[8 + k] = (uint8_t)(v >> (8 * k));
        return true;
    }
    return false;
}

static void test_tiff(void) {
    gi_tensor *rgb = noise(GI_DTYPE_U8, 30, 40, 3, 11);
    if (!HAVE_TIFF) {
        CHECK_ERR(gi_image_save(tmp("x.tif"), rgb, 0), GI_E_UNSUPPORTED, "-Dtiff=enabled");
        write_all(tmp("fake.tif"), "II*\0\x08\0\0\0\0\0", 10);
        expect_load_fail(tmp("fake.tif"), GI_E_UNSUPPORTED, "TIFF in a build without it");
        CHECK(mentions("no TIFF support"), "names the missing feature: %s", gi_last_error());
        gi_tensor_destroy(rgb);
        return;
    }
    for (int c = 1; c <= 4; c++)
        for (int deep = 0; deep < 2; deep++) {
            gi_tensor *t = noise(deep ? GI_DTYPE_U16 : GI_DTYPE_U8, 13, 17, c, (uint32_t)(c + 10 * deep));
            CHECK(round_trip(t, deep ? "n16.tiff" : "n8.tif", deep ? GI_LOAD_16BIT : 0),
                  "TIFF round trip, %d channels, %d bits", c, deep ? 16 : 8);
            gi_tensor_destroy(t);
        }
    /* 16 bits without the flag: rounded to 8, like PNG. */
    gi_tensor *n16 = noise(GI_DTYPE_U16, 5, 6, 3, 3), *a = NULL, *b = NULL;
    gi_image_save(tmp("r16.tif"), n16, 0);
    gi_image_save(tmp("r16.png"), n16, 0);
    CHECK(gi_image_load(tmp("r16.tif"), 0, &a) == GI_OK && gi_image_load(tmp("r16.png"), 0, &b) == GI_OK &&
              gi_tensor_dtype(a) == GI_DTYPE_U8 && same_tensor(a, b),
          "16-bit TIFF and PNG reduce to the same 8 bits");
    gi_tensor_destroy(a), gi_tensor_destroy(b), gi_tensor_destroy(n16);
    size_t size;
    uint8_t *data;

    /* The Orientation tag, as EXIF's: {{3 6} {2 5} {1 4}} stored with 6
     * (90 degrees clockwise) is {{1 2 3} {4 5 6}} upright. */
    static const uint8_t stored6[3][2] = {{3, 6}, {2, 5}, {1, 4}};
    gi_tensor *turned = NULL, *upright = NULL;
    gi_tensor_wrap(GI_DTYPE_U8, 3, 2, 1, (void *)stored6, 2, &turned);
    gi_image_save(tmp("o6.tif"), turned, 0);
    data = read_all(tmp("o6.tif"), &size);
    CHECK(data && patch_tiff_tag(data, size, 274, 6), "TIFF orientation patched");
    if (data) write_all(tmp("o6.tif"), data, size);
    free(data);
    CHECK(gi_image_load(tmp("o6.tif"), 0, &upright) == GI_OK && shape_is(upright, 2, 3, 1) &&
              memcmp(px(upright, 0, 0), "\1\2\3", 3) == 0 &&
              memcmp(px(upright, 1, 0), "\4\5\6", 3) == 0,
          "TIFF orientation 6 applied");
    gi_tensor_destroy(turned), gi_tensor_destroy(upright);

    CHECK(gi_image_save(tmp("rgb.tif"), rgb, 0) == GI_OK, "save rgb.tif");
    expect_truncations_fail("rgb.tif");
    data = read_all(tmp("rgb.tif"), &size);
    CHECK(data && patch_tiff_tag(data, size, 256, 50000) && patch_tiff_tag(data, size, 257, 50000),
          "TIFF size tags patched");
    if (data) {
        write_all(tmp("50k.tif"), data, size);
        gi_alloc_fail_after(INT64_MAX, 0); /* count only: libtiff's own allocations are not seen */
        expect_load_fail(tmp("50k.tif"), GI_E_UNSUPPORTED, "50000x50000 TIFF");
        CHECK(gi_alloc_largest() < ((size_t)1 << 20), "50k TIFF: %zu bytes allocated at once",
              gi_alloc_largest());
        gi_alloc_fail_after(-1, 0);
        CHECK(mentions("50000x50000"), "50k TIFF message: %s", gi_last_error());
    }
    free(data);
    gi_tensor_destroy(rgb);
}

/* ------------------------------------------------------------------------ */
/* gi_image_to_mask                                                          */
/* ------------------------------------------------------------------------ */

static gi_tensor *mask_of(int c, const uint8_t *pixels, int w, size_t stride) {
    gi_tensor *img = NULL, *m = NULL;
    gi_tensor_wrap(GI_DTYPE_U8, 2, w, c, (void *)pixels, stride, &img);
    gi_status st = gi_image_to_mask(img, &m);
    CHECK(st == GI_OK && shape_is(m, 2, w, 1), "to_mask with %d channels", c);
    gi_tensor_destroy(img);
    return m;
}

static bool mask_is(gi_tensor *m, const uint8_t *want, int w) {
    if (!m) return false;
    for (int y = 0; y < 2; y++)
        if (memcmp(px(m, y, 0), want + y * w, (size_t)w) != 0) return false;
    return true;
}

static void test_mask(void) {
    gi_tensor *m;
    static const uint8_t g[2][3] = {{0, 100, 200}, {255, 127, 128}};
    m = mask_of(1, &g[0][0], 3, 3);
    CHECK(mask_is(m, &g[0][0], 3), "gray mask copied, not binarised");
    gi_tensor_destroy(m);

    /* Strided RGB: max of the channels; padding bytes (99) ignored. */
    static const uint8_t rgb[2][8] = {{10, 200, 30, 0, 0, 5, 99, 99}, {255, 0, 0, 1, 2, 3, 99, 99}};
    m = mask_of(3, &rgb[0][0], 2, 8);
    CHECK(mask_is(m, (const uint8_t *)"\310\005\377\003", 2), "RGB -> max channel");
    gi_tensor_destroy(m);

    static const uint8_t rgba[2][8] = {{9, 9, 9, 0, 0, 0, 0, 255}, {0, 0, 0, 200, 7, 7, 7, 0}};
    m = mask_of(4, &rgba[0][0], 2, 8);
    CHECK(mask_is(m, (const uint8_t *)"\000\377\310\000", 2), "RGBA varying alpha -> alpha");
    gi_tensor_destroy(m);

    static const uint8_t opaque[2][8] = {{9, 1, 2, 255, 0, 0, 0, 255}, {0, 0, 250, 255, 7, 8, 6, 255}};
    m = mask_of(4, &opaque[0][0], 2, 8);
    CHECK(mask_is(m, (const uint8_t *)"\011\000\372\010", 2), "RGBA uniform alpha -> colours");
    gi_tensor_destroy(m);

    static const uint8_t ga[2][4] = {{50, 0, 60, 255}, {70, 128, 80, 0}};
    m = mask_of(2, &ga[0][0], 2, 4);
    CHECK(mask_is(m, (const uint8_t *)"\000\377\200\000", 2), "gray+alpha varying -> alpha");
    gi_tensor_destroy(m);
    static const uint8_t ga_flat[2][4] = {{50, 0, 60, 0}, {70, 0, 80, 0}};
    m = mask_of(2, &ga_flat[0][0], 2, 4);
    CHECK(mask_is(m, (const uint8_t *)"\062\074\106\120", 2), "gray+alpha uniform -> gray");
    gi_tensor_destroy(m);

    gi_tensor *f = NULL, *out = (gi_tensor *)1;
    gi_tensor_create(GI_DTYPE_F32, 2, 2, 1, &f);
    CHECK(gi_image_to_mask(f, &out) == GI_E_INVALID_ARG && out == NULL, "F32 refused");
    CHECK(mentions("gi_image_to_mask"), "message prefix");
    CHECK(gi_image_to_mask(NULL, &out) == GI_E_INVALID_ARG && out == NULL, "NULL image");
    CHECK(gi_image_to_mask(f, NULL) == GI_E_INVALID_ARG, "NULL out");
    gi_tensor *five = NULL;
    gi_tensor_create(GI_DTYPE_U8, 2, 2, 5, &five);
    CHECK(gi_image_to_mask(five, &out) == GI_E_INVALID_ARG, "5 channels refused");
    gi_tensor_destroy(five);
    gi_tensor_destroy(f);
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */
/* ------------------------------------------------------------------------ */

static void test_args(void) {
    gi_tensor *t = (gi_tensor *)1, *img = NULL, *f = NULL;
    CHECK(gi_image_load(NULL, 0, &t) == GI_E_INVALID_ARG && t == NULL && mentions("path"),
          "load NULL path");
    CHECK(gi_image_load(tmp("rt.png"), 0, NULL) == GI_E_INVALID_ARG, "load NULL out");
    CHECK(gi_image_load(tmp("rt.png"), 2, &t) == GI_E_INVALID_ARG && mentions("channels"),
          "load 2 channels");
    CHECK(gi_image_load(tmp("rt.png"), -1, &t) == GI_E_INVALID_ARG, "load -1 channels");

    gi_tensor_create(GI_DTYPE_U8, 4, 4, 3, &img);
    gi_tensor_create(GI_DTYPE_F32, 4, 4, 3, &f);
    CHECK(gi_image_save(NULL, img, 0) == GI_E_INVALID_ARG && mentions("gi_image_save: path"),
          "save NULL path");
    CHECK(gi_image_save(tmp("x.png"), NULL, 0) == GI_E_INVALID_ARG, "save NULL image");
    CHECK(gi_image_save(tmp("x.png"), f, 0) == GI_E_INVALID_ARG && mentions("dtype"),
          "save F32");
    CHECK(gi_image_save(tmp("x.jpg"), img, 101) == GI_E_INVALID_ARG && mentions("quality"),
          "quality 101");
    CHECK(gi_image_save(tmp("x.jpg"), img, -1) == GI_E_INVALID_ARG, "quality -1");
    CHECK(gi_image_save(tmp("x.bmp"), img, 0) == GI_E_INVALID_ARG && mentions("extension"),
          "unknown extension");
    CHECK(gi_image_save(tmp("x"), img, 0) == GI_E_INVALID_ARG, "no extension");
    CHECK(gi_image_save(tmp("dir.png/x"), img, 0) == GI_E_INVALID_ARG,
          "extension of a folder does not count");
    CHECK(access(tmp("x.bmp"), F_OK) != 0, "nothing written for a refused call");
    CHECK(gi_image_save(tmp("no/such/dir/x.png"), img, 0) == GI_E_IO &&
              mentions(strerror(ENOENT)) && mentions("no/such/dir/x.png"),
          "save into a missing folder");
    gi_tensor *five = NULL;
    gi_tensor_create(GI_DTYPE_U8, 2, 2, 5, &five);
    CHECK(gi_image_save(tmp("x.png"), five, 0) == GI_E_INVALID_ARG, "5 channels refused");
    gi_tensor_destroy(five);
    gi_tensor_destroy(img);
    gi_tensor_destroy(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/gi-test-io-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_png_roundtrip();
    test_jpeg_roundtrip();
    test_png_16bit();
    test_png_palette();
    test_png_gray_variants();
    test_png_interlaced();
    test_exif_parser();
    test_exif_jpeg();
    test_exif_png();
    test_cmyk();
    test_truncated();
    test_huge();
    test_16bit_kept();
    test_metadata();
    test_webp();
    test_tiff();
    test_mask();
    test_args();
    if (nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0) perror(tmpdir);
    return check_report();
}
