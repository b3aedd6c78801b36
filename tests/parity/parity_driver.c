/* Runs gi_inpaint() on raw uint8 inputs and writes the network's stage
 * outputs (through the gi_debug_taps test hook) and the result as raw files,
 * for test_parity.py to compare with the PyTorch reference.
 *
 * usage: parity_driver MODEL THREADS H W C IMAGE MASK GUIDE|- OUTDIR
 *   IMAGE: H*W*C bytes (C = 3 RGB or 4 RGBA), MASK and GUIDE: H*W bytes.
 *   Writes OUTDIR/x_stage1.f32 and x_stage2.f32 (net_h*net_w*3 floats, HWC,
 *   network channel order) and OUTDIR/out.u8 (H*W*C bytes), and prints
 *   "net_h net_w" on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/session.h"
#include "gatedinpaint.h"

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "parity_driver: %s: %s\n", what, detail);
    return 1;
}

/* Read exactly `size` bytes of `path` into a new buffer (NULL on error). */
static uint8_t *read_exact(const char *path, size_t size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "parity_driver: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(size + 1);
    size_t got = buf ? fread(buf, 1, size + 1, f) : 0;
    fclose(f);
    if (!buf || got != size) {
        fprintf(stderr, "parity_driver: %s: expected %zu bytes, read %zu\n", path, size, got);
        free(buf);
        return NULL;
    }
    return buf;
}

static int write_file(const char *dir, const char *name, const void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return fail(path, strerror(errno));
    size_t put = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || put != size) return fail(path, "short write");
    return 0;
}

static gi_status wrap(int32_t h, int32_t w, int32_t c, uint8_t *data, gi_tensor **t) {
    return gi_tensor_wrap(GI_DTYPE_U8, h, w, c, data, (size_t)w * c, t);
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s MODEL THREADS H W C IMAGE MASK GUIDE|- OUTDIR\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]), h = atoi(argv[3]), w = atoi(argv[4]), c = atoi(argv[5]);
    const char *outdir = argv[9];
    if (h <= 0 || w <= 0 || (c != 3 && c != 4) || threads < 0)
        return fail("arguments", "bad THREADS, H, W or C");
    size_t npix = (size_t)h * w;

    int rc = 1;
    gi_model *model = NULL;
    gi_session *s = NULL;
    gi_tensor *timg = NULL, *tmask = NULL, *tguide = NULL, *tout = NULL;
    gi_debug_taps taps = {0, 0, NULL, NULL};
    uint8_t *img = read_exact(argv[6], npix * c);
    uint8_t *mask = read_exact(argv[7], npix);
    uint8_t *guide = strcmp(argv[8], "-") ? read_exact(argv[8], npix) : NULL;
    uint8_t *out = malloc(npix * c);
    if (!img || !mask || (strcmp(argv[8], "-") && !guide) || !out) goto done;

    if (gi_model_load_file(argv[1], &model) || gi_session_create(model, &s) ||
        gi_session_set_int(s, GI_OPT_NUM_THREADS, threads) || wrap(h, w, c, img, &timg) ||
        wrap(h, w, 1, mask, &tmask) || (guide && wrap(h, w, 1, guide, &tguide)) ||
        wrap(h, w, c, out, &tout)) {
        fail("setup", gi_last_error());
        goto done;
    }
    gi_session_set_debug_taps(s, &taps);
    if (gi_inpaint(s, timg, tmask, tguide, tout)) {
        fail("gi_inpaint", gi_last_error());
        goto done;
    }
    size_t nnet = (size_t)taps.net_h * taps.net_w * 3 * sizeof(float);
    if (!taps.x_stage1 || !taps.x_stage2) {
        fail("gi_inpaint", "debug taps were not filled");
        goto done;
    }
    if (write_file(outdir, "x_stage1.f32", taps.x_stage1, nnet) ||
        write_file(outdir, "x_stage2.f32", taps.x_stage2, nnet) ||
        write_file(outdir, "out.u8", out, npix * c))
        goto done;
    printf("%d %d\n", (int)taps.net_h, (int)taps.net_w);
    rc = 0;
done:
    free(taps.x_stage1);
    free(taps.x_stage2);
    gi_tensor_destroy(timg);
    gi_tensor_destroy(tmask);
    gi_tensor_destroy(tguide);
    gi_tensor_destroy(tout);
    gi_session_destroy(s);
    gi_model_release(model);
    free(img);
    free(mask);
    free(guide);
    free(out);
    return rc;
}
