/* The PConv U-Net forward pass: encoder of strided partial convolutions,
 * decoder of nearest x2 upsampling, concatenation with the encoder's map
 * (features and masks) and 3x3 partial convolutions.
 *
 * Every feature map is stored already multiplied by its mask (0 where the
 * mask is 0). net.py stores BN(0) there instead, but every consumer of a map
 * (the next layer, the skip concatenation) multiplies it by the same mask
 * first, so the results are the same and no layer multiplies by a mask. */
#include "pconv_unet.h"

#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "../graph/conv.h"

/* ImageNet statistics, which net.py's training normalises inputs with. */
static const float mean_rgb[3] = {0.485f, 0.456f, 0.406f};
static const float std_rgb[3] = {0.229f, 0.224f, 0.225f};

/* Geometry of a layer: torch padding k/2 on both sides (not TF 'SAME'). */
static void layer_shape(const gi_pc_layer *l, int32_t in_h, int32_t in_w, gi_conv_shape *sh) {
    gi_conv_shape_same(sh, in_h, in_w, l->cin, l->cin, 1, l->k, l->stride, 1, l->cout,
                       l->cout, l->cout, l->act);
    sh->pad_top = sh->pad_left = l->k / 2;
}

/* Arena layout at network size h x w. */
typedef struct layout {
    size_t o_h[GI_PC_MAX_DEPTH + 1]; /* h_i: enc_i's output (h_0: the input) */
    size_t o_m[GI_PC_MAX_DEPTH + 1]; /* its mask, 1 byte per pixel, 1 = valid */
    size_t o_cat, o_dec, o_dmask, o_valid, o_scale, o_conv, total;
    size_t conv_scratch; /* floats per thread */
    double macs;
} layout;

static void make_layout(const gi_pconv_unet *m, const gi_exec *ex, int32_t h, int32_t w,
                        layout *l) {
    memset(l, 0, sizeof *l);
    size_t off = 0, f = sizeof(float), cat = 0, dec = 0;
    for (int32_t i = 0; i <= m->depth; i++) {
        size_t px = (size_t)(h >> i) * (size_t)(w >> i);
        int32_t ch = i ? m->layers[i - 1].cout : 3;
        l->o_h[i] = gi_carve(&off, px * ch * f);
        l->o_m[i] = gi_carve(&off, px);
    }
    for (int32_t li = 0; li < m->nlayers; li++) {
        const gi_pc_layer *ly = &m->layers[li];
        int32_t lvl = li < m->depth ? li : m->nlayers - 1 - li; /* input level */
        gi_conv_shape sh;
        layer_shape(ly, h >> lvl, w >> lvl, &sh);
        size_t px = (size_t)sh.out_h * sh.out_w;
        l->macs += (double)px * ly->cout * ly->cin * ly->k * ly->k;
        if (li >= m->depth) {
            if (px * ly->cin > cat) cat = px * ly->cin;
            if (px * ly->cout > dec) dec = px * ly->cout;
        }
        size_t cs = ex->kernels->conv_scratch_size(&sh);
        if (cs > l->conv_scratch) l->conv_scratch = cs;
    }
    size_t full = (size_t)h * w;
    l->o_cat = gi_carve(&off, cat * f);
    l->o_dec = gi_carve(&off, dec * f);
    l->o_dmask = gi_carve(&off, full);
    l->o_valid = gi_carve(&off, full * sizeof(int32_t));
    l->o_scale = gi_carve(&off, full * f);
    l->o_conv = gi_carve(&off, l->conv_scratch * f * (size_t)ex->num_threads);
    l->total = off;
}

static gi_status pconv_scratch(const void *state, const gi_exec *ex, int32_t h, int32_t w,
                               size_t *bytes) {
    layout l;
    make_layout(state, ex, h, w, &l);
    *bytes = l.total;
    return GI_OK;
}

typedef struct run {
    gi_exec *ex;
    const gi_pconv_unet *m;
    const gi_packed *packed;
    const layout *l;
    uint8_t *base;
    double macs_done;
    int32_t net_h, net_w; /* the network input's size */
    int32_t observed;     /* maps handed to the observer so far */
} run;

/* The gate viewer: a layer's updated mask, as floats, to the observer. */
static gi_status observe_mask(run *r, const char *layer, const uint8_t *mask, int32_t h,
                              int32_t w) {
    size_t n = (size_t)h * w;
    float *map = gi_malloc(n * sizeof *map);
    if (!map) return gi_fail(GI_E_NOMEM, "gi_inpaint: no memory for the mask of %s", layer);
    for (size_t i = 0; i < n; i++) map[i] = mask[i];
    gi_map_info info = {layer, "mask", r->observed++, 0, h, w, 1, r->net_h, r->net_w};
    gi_status st = gi_exec_observe(r->ex, &info, map);
    free(map);
    return st;
}

/* Layer li on `in` (in_h x in_w, valid counts in the valid plane): output
 * rows [y0, y1) (-1: all) and the whole output mask. */
static gi_status layer(run *r, int32_t li, const float *in, int32_t in_h, int32_t in_w,
                       int32_t y0, int32_t y1, float *out, uint8_t *mask_out) {
    const gi_pc_layer *ly = &r->m->layers[li];
    gi_conv_shape sh;
    layer_shape(ly, in_h, in_w, &sh);
    float *scale = (float *)(r->base + r->l->o_scale);
    gi_pconv_scale(&sh, (const int32_t *)(r->base + r->l->o_valid), scale, mask_out);
    if (r->ex->observe) {
        gi_status st = observe_mask(r, ly->name, mask_out, sh.out_h, sh.out_w);
        if (st) return st;
    }
    if (y0 < 0) y0 = 0, y1 = sh.out_h;
    gi_pconv_run(r->ex->kernels, r->ex->num_threads, &sh, in, r->packed->layer[li], scale, out,
                 y0, y1, (float *)(r->base + r->l->o_conv), r->l->conv_scratch);
    r->macs_done += (double)sh.out_h * sh.out_w * ly->cout * ly->cin * ly->k * ly->k;
    return gi_exec_report(r->ex, (float)(r->macs_done / r->l->macs),
                          li < r->m->depth ? "encoder" : "decoder");
}

/* Network input h_0 and its mask: colour normalised with ImageNet's mean and
 * standard deviation, 0 in the hole; [*y0, *y1): the rows with hole pixels. */
static void build_input(const gi_pconv_unet *m, const gi_net_io *io, float *x, uint8_t *known,
                        int32_t *y0, int32_t *y1) {
    const size_t npix = (size_t)io->h * io->w;
    *y0 = io->h, *y1 = 0;
    for (size_t i = 0; i < npix; i++) {
        known[i] = !io->hole[i];
        if (!known[i]) {
            int32_t y = (int32_t)(i / (size_t)io->w);
            if (y < *y0) *y0 = y;
            *y1 = y + 1;
        }
        for (int ch = 0; ch < 3; ch++) {
            int32_t src = m->bgr ? 2 - ch : ch;
            float v = ((float)io->rgb[i * 3 + src] / 255.0f - mean_rgb[ch]) / std_rgb[ch];
            x[i * 3 + ch] = known[i] ? v : 0.0f;
        }
    }
}

/* Decoder input at h x w: up(src) (sh x sw x c_up, mask smask) then the skip
 * map (c_skip channels, mask kmask), and the valid-count plane. */
static void concat(const float *src, const uint8_t *smask, int32_t c_up, const float *skip,
                   const uint8_t *kmask, int32_t c_skip, int32_t h, int32_t w, int32_t y0,
                   int32_t y1, float *cat, int32_t *valid) {
    const int32_t sw = w / 2, c = c_up + c_skip;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x, s = (size_t)(y / 2) * sw + x / 2;
            valid[p] = c_up * smask[s] + c_skip * kmask[p];
            if (y < y0 || y >= y1) continue; /* features only where they are read */
            memcpy(cat + p * c, src + s * c_up, (size_t)c_up * sizeof *cat);
            memcpy(cat + p * c + c_up, skip + p * c_skip, (size_t)c_skip * sizeof *cat);
        }
}

/* The decoder computes only what can reach a hole pixel of the output: rows
 * [need[l][0], need[l][1]) of its output at level l, from the hole's rows at
 * level 0 down (a 3x3 layer reads one row more on each side, an upsampled
 * row y comes from row y/2). The encoder runs whole: its deep maps feed
 * everything. */
static void needed_rows(int32_t hole_y0, int32_t hole_y1, int32_t H, int32_t L,
                        int32_t need[][2]) {
    int32_t a = hole_y0, b = hole_y1;
    if (a >= b) a = b = 0;
    for (int32_t l = 0; l < L; l++) {
        need[l][0] = a, need[l][1] = b;
        if (a >= b) continue;
        int32_t ia = a > 0 ? a - 1 : 0, ib = b + 1 < (H >> l) ? b + 1 : H >> l;
        a = ia / 2, b = (ib - 1) / 2 + 1; /* the upsampled rows' sources, one level down */
    }
}

static gi_status pconv_forward(void *state, gi_exec *ex, gi_net_io *io, void *scratch) {
    gi_pconv_unet *m = state;
    const int32_t H = io->h, W = io->w, L = m->depth;
    layout l;
    make_layout(m, ex, H, W, &l);
    uint8_t *base = scratch;
    const gi_packed *packed = gi_packed_get(&m->packed, ex->kernels);
    if (!packed) return GI_E_NOMEM;
    run r = {ex, m, packed, &l, base, 0, H, W, 0};
    float *h[GI_PC_MAX_DEPTH + 1];
    uint8_t *mk[GI_PC_MAX_DEPTH + 1];
    for (int32_t i = 0; i <= L; i++) {
        h[i] = (float *)(base + l.o_h[i]);
        mk[i] = base + l.o_m[i];
    }
    int32_t *valid = (int32_t *)(base + l.o_valid);
    int32_t hole_y0, hole_y1;
    build_input(m, io, h[0], mk[0], &hole_y0, &hole_y1);
    gi_status st;
    for (int32_t i = 1; i <= L; i++) { /* enc_i: h_{i-1} -> h_i */
        int32_t cin = m->layers[i - 1].cin;
        size_t px = (size_t)(H >> (i - 1)) * (size_t)(W >> (i - 1));
        for (size_t p = 0; p < px; p++) valid[p] = cin * mk[i - 1][p];
        if ((st = layer(&r, i - 1, h[i - 1], H >> (i - 1), W >> (i - 1), -1, -1, h[i], mk[i])))
            return st;
    }
    float *cat = (float *)(base + l.o_cat), *dec = (float *)(base + l.o_dec);
    uint8_t *dmask = base + l.o_dmask;
    const float *src = h[L];
    const uint8_t *smask = mk[L];
    int32_t need[GI_PC_MAX_DEPTH][2];
    needed_rows(hole_y0, hole_y1, H, L, need);
    for (int32_t i = L; i >= 1; i--) { /* dec_i: up(src) ++ h_{i-1} -> dec */
        int32_t li = 2 * L - i, hi = H >> (i - 1);
        const gi_pc_layer *ly = &m->layers[li];
        int32_t y0 = need[i - 1][0], y1 = need[i - 1][1];
        concat(src, smask, ly->cin_up, h[i - 1], mk[i - 1], ly->cin - ly->cin_up, hi,
               W >> (i - 1), y0 > 0 ? y0 - 1 : 0, y1 < hi ? y1 + 1 : hi, cat, valid);
        if ((st = layer(&r, li, cat, hi, W >> (i - 1), y0, y1, dec, dmask))) return st;
        src = dec;
        smask = dmask;
    }
    /* dec_1's normalised colour back to RGB on the 0..255 scale, in place */
    for (size_t i = (size_t)hole_y0 * W; i < (size_t)hole_y1 * W; i++) {
        float px[3];
        for (int ch = 0; ch < 3; ch++) px[ch] = (dec[i * 3 + ch] * std_rgb[ch] + mean_rgb[ch]);
        for (int ch = 0; ch < 3; ch++) dec[i * 3 + (m->bgr ? 2 - ch : ch)] = px[ch] * 255.0f;
    }
    io->out = dec;
    return GI_OK;
}

static gi_status pconv_property(const void *state, int32_t prop, int64_t *ival,
                                const char **sval) {
    (void)state;
    (void)prop;
    (void)ival;
    (void)sval;
    return GI_E_UNSUPPORTED;
}

const gi_family gi_family_pconv_unet = {
    .name = "pconv_unet",
    .read_metadata = gi_pconv_read_metadata,
    .load_tensors = gi_pconv_load_tensors,
    .destroy = gi_pconv_destroy,
    .scratch = pconv_scratch,
    .forward = pconv_forward,
    .property = pconv_property,
};
