/* Writes the JPEG seeds of corpus/image with libjpeg (baseline, 4:4:4,
 * progressive, gray, CMYK with and without the Adobe marker, odd sizes,
 * restart markers, EXIF orientations in both byte orders, a truncated file).
 *   cc -O1 make_jpeg_seeds.c -ljpeg -o /tmp/mjs && /tmp/mjs corpus/image
 * With a second argument it also writes the regression input
 * jpeg_576_scans there: a valid progressive JPEG of 3 x 192 scans (every AC
 * coefficient its own band, refined twice), more than the decoder's limit.
 * Deterministic output; the files are committed, this is not built by meson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

static const char *dir;

typedef struct {
    const char *name;
    int w, h, comps;
    J_COLOR_SPACE cs;
    int quality, progressive, full_chroma, restart, adobe, exif, exif_big;
    int truncate, many_scans;
} spec;

/* 3 components x (DC first + 2 refinements + 63 AC bands x 3) = 576 scans. */
static jpeg_scan_info scans[3 * 192];
static int make_scans(void) {
    int n = 0;
    for (int al = 2; al >= 0; al--) { /* DC, all components per scan */
        scans[n] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, al == 2 ? 0 : al + 1, al};
        n++;
    }
    for (int c = 0; c < 3; c++)
        for (int k = 1; k < 64; k++)
            for (int al = 2; al >= 0; al--) {
                scans[n] = (jpeg_scan_info){1, {c, 0, 0, 0}, k, k, al == 2 ? 0 : al + 1, al};
                n++;
            }
    return n;
}

static size_t tiff_orientation(uint8_t *b, int o, int big) {
    /* "Exif\0\0" + TIFF header + IFD0 with one SHORT entry */
    memcpy(b, "Exif\0\0", 6);
    uint8_t *t = b + 6;
#define P16(p, v) (big ? ((p)[0] = (uint8_t)((v) >> 8), (p)[1] = (uint8_t)(v)) \
                       : ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8)))
#define P32(p, v) (big ? (P16(p, (v) >> 16), P16((p) + 2, (v) & 0xffff)) \
                       : (P16(p, (v) & 0xffff), P16((p) + 2, (v) >> 16)))
    memcpy(t, big ? "MM" : "II", 2);
    P16(t + 2, 42);
    P32(t + 4, 8u);
    P16(t + 8, 1);
    P16(t + 10, 0x0112);
    P16(t + 12, 3);
    P32(t + 14, 1u);
    P16(t + 18, (unsigned)o);
    P16(t + 20, 0);
    P32(t + 22, 0u);
    return 6 + 26;
}

static void write_one(const spec *s) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *mem = NULL;
    unsigned long size = 0;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = s->comps;
    c.in_color_space = s->cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, s->quality, TRUE);
    if (s->progressive) jpeg_simple_progression(&c);
    if (s->many_scans) {
        c.num_scans = make_scans();
        c.scan_info = scans;
    }
    if (s->full_chroma) c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
    if (s->restart) c.restart_interval = (unsigned)s->restart;
    c.write_Adobe_marker = s->adobe ? TRUE : FALSE;
    jpeg_start_compress(&c, TRUE);
    if (s->exif) {
        uint8_t b[64];
        size_t n = tiff_orientation(b, s->exif, s->exif_big);
        jpeg_write_marker(&c, JPEG_APP0 + 1, b, (unsigned)n);
    }
    unsigned char *row = malloc((size_t)s->w * (size_t)s->comps);
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++)
            for (int k = 0; k < s->comps; k++)
                row[x * s->comps + k] = (unsigned char)(x * 37 + y * 11 + k * 70);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, s->name);
    FILE *f = fopen(path, "wb");
    if (!f) exit(1);
    fwrite(mem, 1, s->truncate ? size / 2 : size, f);
    fclose(f);
    free(mem);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) return 2;
    dir = argv[1];
    static const spec specs[] = {
        {"jpeg_baseline", 16, 16, 3, JCS_RGB, 80, 0, 0, 0, 0, 0, 0, 0},
        {"jpeg_444_q95", 16, 16, 3, JCS_RGB, 95, 0, 1, 0, 0, 0, 0, 0},
        {"jpeg_progressive", 16, 16, 3, JCS_RGB, 70, 1, 0, 0, 0, 0, 0, 0},
        {"jpeg_gray", 12, 10, 1, JCS_GRAYSCALE, 75, 0, 0, 0, 0, 0, 0, 0},
        {"jpeg_gray_progressive", 9, 9, 1, JCS_GRAYSCALE, 75, 1, 0, 0, 0, 0, 0, 0},
        {"jpeg_cmyk_adobe", 8, 8, 4, JCS_CMYK, 75, 0, 0, 0, 1, 0, 0, 0},
        {"jpeg_cmyk_plain", 8, 8, 4, JCS_CMYK, 75, 0, 0, 0, 0, 0, 0, 0},
        {"jpeg_odd_size", 13, 7, 3, JCS_RGB, 60, 0, 0, 0, 0, 0, 0, 0},
        {"jpeg_restart", 24, 16, 3, JCS_RGB, 70, 0, 0, 1, 0, 0, 0, 0},
        {"jpeg_exif_o2", 8, 6, 3, JCS_RGB, 60, 0, 0, 0, 0, 2, 0, 0},
        {"jpeg_exif_o5", 8, 6, 3, JCS_RGB, 60, 0, 0, 0, 0, 5, 1, 0},
        {"jpeg_exif_o6", 8, 6, 3, JCS_RGB, 60, 0, 0, 0, 0, 6, 0, 0},
        {"jpeg_exif_o7", 8, 6, 3, JCS_RGB, 60, 0, 0, 0, 0, 7, 1, 0},
        {"jpeg_truncated", 16, 16, 3, JCS_RGB, 80, 0, 0, 0, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) write_one(&specs[i]);
    if (argc == 3) {
        dir = argv[2];
        static const spec many = {"jpeg_576_scans", 16, 16, 3, JCS_RGB, 90, 0, 0, 0, 0, 0, 0, 0, 1};
        write_one(&many);
    }
    printf("%s: %zu JPEG seeds\n", dir, sizeof specs / sizeof specs[0]);
    return 0;
}
