/* gi-inpaint --dump-gates DIR: the maps of the experimental map observer
 * (gi_session_set_map_observer) as PNG grids, one per layer, plus an index. */
#include "dump_maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The longest side of one channel's tile; a 48-channel layer of a photo
 * stays a few hundred kilobytes. */
#define TILE_MAX 256
#define GAP 2 /* grey pixels between tiles */

struct gi_dump {
    char dir[4096];
    int32_t image_h, image_w;
    FILE *tsv, *html;
    int failed;
};

gi_dump *dump_open(const char *dir, int32_t image_h, int32_t image_w) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gi-inpaint: cannot create '%s': %s\n", dir, strerror(errno));
        return NULL;
    }
    gi_dump *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    d->image_h = image_h, d->image_w = image_w;
    char path[4200];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    d->tsv = fopen(path, "w");
    snprintf(path, sizeof path, "%s/index.html", dir);
    d->html = fopen(path, "w");
    if (!d->tsv || !d->html) {
        fprintf(stderr, "gi-inpaint: cannot write the index in '%s': %s\n", dir,
                strerror(errno));
        dump_close(d);
        return NULL;
    }
    fprintf(d->tsv, "pass\tindex\tlayer\tkind\th\tw\tchannels\tmean\tmin\tmax\tfile\n");
    fprintf(d->html, "<!doctype html><meta charset=utf-8><title>gi-inpaint maps</title>\n"
                     "<style>body{font-family:sans-serif;background:#222;color:#ddd}"
                     "img{max-width:100%%;image-rendering:pixelated}</style>\n"
                     "<h1>Network maps</h1><p>Gates: sigmoid of each gated convolution's gate "
                     "channels (black 0, white 1), one tile per channel. Masks: a partial "
                     "convolution's updated mask (white = valid).</p>\n");
    return d;
}

/* The map's part that covers the image: --dump-gates runs the exact
 * strategy, one pass over the image padded bottom/right to net_h x net_w. */
static void covered(const gi_dump *d, const gi_map_info *in, int32_t *h, int32_t *w) {
    *h = (int32_t)(((int64_t)d->image_h * in->h + in->net_h - 1) / in->net_h);
    *w = (int32_t)(((int64_t)d->image_w * in->w + in->net_w - 1) / in->net_w);
}

int32_t dump_observer(void *user, const gi_map_info *in, const float *data) {
    gi_dump *d = user;
    int32_t mh, mw;
    covered(d, in, &mh, &mw);
    /* tile: the covered map resized to the image's aspect, at most TILE_MAX */
    double f = (double)TILE_MAX / (d->image_h > d->image_w ? d->image_h : d->image_w);
    if (f > 1.0) f = 1.0;
    int32_t th = (int32_t)(d->image_h * f + 0.5), tw = (int32_t)(d->image_w * f + 0.5);
    if (th < 1) th = 1;
    if (tw < 1) tw = 1;
    int32_t cols = 1;
    while (cols * cols < in->c) cols++;
    int32_t rows = (in->c + cols - 1) / cols;
    int32_t gh = rows * th + (rows - 1) * GAP, gw = cols * tw + (cols - 1) * GAP;
    gi_tensor *grid = NULL;
    if (gi_tensor_create(GI_DTYPE_U8, gh, gw, 1, &grid) != GI_OK) {
        d->failed = 1;
        return 1;
    }
    uint8_t *px = gi_tensor_data(grid);
    size_t stride = gi_tensor_row_stride(grid);
    for (int32_t y = 0; y < gh; y++) memset(px + y * stride, 96, (size_t)gw);
    double sum = 0, lo = 1e30, hi = -1e30;
    for (int32_t ch = 0; ch < in->c; ch++) {
        int32_t oy = ch / cols * (th + GAP), ox = ch % cols * (tw + GAP);
        for (int32_t y = 0; y < th; y++)
            for (int32_t x = 0; x < tw; x++) { /* nearest sample of the covered map */
                int32_t sy = (int32_t)((int64_t)y * mh / th), sx = (int32_t)((int64_t)x * mw / tw);
                float v = data[((size_t)sy * in->w + sx) * in->c + ch];
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                px[(size_t)(oy + y) * stride + ox + x] = (uint8_t)(v * 255.0f + 0.5f);
            }
        for (int32_t y = 0; y < mh; y++)
            for (int32_t x = 0; x < mw; x++) {
                double v = data[((size_t)y * in->w + x) * in->c + ch];
                sum += v;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
    }
    char name[160], path[4400];
    snprintf(name, sizeof name, "p%d_%02d_%s_%s.png", (int)in->pass, (int)in->index, in->layer,
             in->kind);
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    if (gi_image_save(path, grid, 0) != GI_OK) {
        fprintf(stderr, "gi-inpaint: %s\n", gi_last_error());
        d->failed = 1;
    }
    gi_tensor_destroy(grid);
    double mean = sum / ((double)mh * mw * in->c);
    fprintf(d->tsv, "%d\t%d\t%s\t%s\t%d\t%d\t%d\t%.4f\t%.4f\t%.4f\t%s\n", (int)in->pass,
            (int)in->index, in->layer, in->kind, (int)in->h, (int)in->w, (int)in->c, mean, lo,
            hi, name);
    fprintf(d->html, "<h3>pass %d, %s (%s, %dx%d, %d channel%s, mean %.3f)</h3><img src=\"%s\">\n",
            (int)in->pass, in->layer, in->kind, (int)in->w, (int)in->h, (int)in->c,
            in->c == 1 ? "" : "s", mean, name);
    return d->failed;
}

int dump_close(gi_dump *d) {
    if (!d) return 1;
    int bad = d->failed;
    if (d->tsv && fclose(d->tsv) != 0) bad = 1;
    if (d->html && fclose(d->html) != 0) bad = 1;
    free(d);
    return bad;
}
