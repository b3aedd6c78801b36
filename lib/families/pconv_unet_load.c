/* PConv U-Net models from GGUF: the layer table, the family's keys, the
 * check of every tensor, and BatchNorm folded into the weights. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "pconv_unet.h"

/* Widths the loader accepts (64 in net.py); the bound only rejects absurd
 * headers. */
#define PC_MIN_WIDTH 1
#define PC_MAX_WIDTH 512

/* ---- the layer table ------------------------------------------------------ */

int gi_pconv_layer_specs(int32_t width, int32_t depth, gi_pc_layer out[GI_PC_MAX_LAYERS]) {
    if (width < PC_MIN_WIDTH || width > PC_MAX_WIDTH || depth < GI_PC_MIN_DEPTH ||
        depth > GI_PC_MAX_DEPTH)
        return -1;
    /* Channels of h_i, the output of enc_i (h_0: the image): 3, w, 2w, 4w,
     * then 8w down to the bottom. */
    int32_t ch[GI_PC_MAX_DEPTH + 1];
    ch[0] = 3;
    for (int32_t i = 1; i <= depth; i++) ch[i] = width << (i < 4 ? i - 1 : 3);
    int32_t n = 0;
    for (int32_t i = 1; i <= depth; i++, n++) { /* 7x7, 5x5, 5x5, then 3x3, stride 2 */
        gi_pc_layer *l = &out[n];
        snprintf(l->name, sizeof l->name, "enc_%d", (int)i);
        l->cin = ch[i - 1];
        l->cin_up = 0;
        l->cout = ch[i];
        l->k = i == 1 ? 7 : i <= 3 ? 5 : 3;
        l->stride = 2;
        l->bn = i > 1;
        l->act = GI_ACT_RELU;
    }
    for (int32_t i = depth; i >= 1; i--, n++) { /* up(h) ++ h_{i-1} -> 3x3 */
        gi_pc_layer *l = &out[n];
        snprintf(l->name, sizeof l->name, "dec_%d", (int)i);
        l->cin_up = ch[i];
        l->cin = ch[i] + ch[i - 1];
        l->cout = ch[i - 1];
        l->k = 3;
        l->stride = 1;
        l->bn = i > 1;
        l->act = i > 1 ? GI_ACT_LEAKY_RELU : GI_ACT_NONE;
    }
    return 0;
}

/* ---- metadata --------------------------------------------------------------- */

static gi_status read_keys(const gi_gguf *g, gi_pconv_unet *m, gi_family_info *info) {
    char found[80];
    const gi_gguf_kv *kv;
    uint64_t v;
    gi_status st;

    if ((st = gi_gguf_get_u32(g, "gatedinpaint.arch_version", &v)) != GI_OK) return st;
    if (v != 1)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.arch_version is %" PRIu64 ", this "
                       "library supports 1 for pconv_unet", v);
    info->arch_version = 1;
    if ((st = gi_gguf_get_u32(g, "gatedinpaint.width", &v)) != GI_OK) return st;
    if (v < PC_MIN_WIDTH || v > PC_MAX_WIDTH)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.width is %" PRIu64 ", must be %d to %d",
                       v, PC_MIN_WIDTH, PC_MAX_WIDTH);
    m->width = info->width = (int32_t)v;
    if ((st = gi_gguf_get_u32(g, "gatedinpaint.pconv.layer_size", &v)) != GI_OK) return st;
    if (v < GI_PC_MIN_DEPTH || v > GI_PC_MAX_DEPTH)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.pconv.layer_size is %" PRIu64 ", must "
                       "be %d to %d", v, GI_PC_MIN_DEPTH, GI_PC_MAX_DEPTH);
    m->depth = (int32_t)v;
    /* Partial convolutions have no sketch input (the point of gated ones). */
    if ((st = gi_gguf_find_key(g, "gatedinpaint.guide_channels", GI_GGUF_U32, 0, &kv)) !=
        GI_OK)
        return st;
    if (kv && kv->num.u != 0)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.guide_channels is %" PRIu64 ", "
                       "pconv_unet takes no guide", kv->num.u);
    info->guide_channels = 0;
    if ((st = gi_gguf_find_key(g, "gatedinpaint.channel_order", GI_GGUF_STRING, 1, &kv)) !=
        GI_OK)
        return st;
    if (!gi_gguf_str_eq(kv->str, "rgb") && !gi_gguf_str_eq(kv->str, "bgr"))
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.channel_order is '%s', must be 'rgb' "
                       "or 'bgr'", gi_gguf_printable(kv->str, found, sizeof found));
    m->bgr = gi_gguf_str_eq(kv->str, "bgr");
    if ((st = gi_gguf_find_key(g, "gatedinpaint.pconv.bn_eps", GI_GGUF_F32, 0, &kv)) != GI_OK)
        return st;
    m->bn_eps = kv ? (float)kv->num.f : 1e-5f;
    if (!(m->bn_eps > 0.0f) || !isfinite(m->bn_eps))
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.pconv.bn_eps is %g, must be finite "
                       "and > 0", (double)m->bn_eps);
    /* Sides must halve depth times; padding enters the network as a hole. */
    info->pad_multiple = 1 << m->depth;
    info->pad_is_hole = 1;
    return GI_OK;
}

gi_status gi_pconv_read_metadata(const gi_gguf *g, gi_family_info *info, void **state) {
    gi_pconv_unet *m = gi_calloc(1, sizeof *m);
    if (!m) return gi_fail(GI_E_NOMEM, "out of memory for the model");
    gi_status st = read_keys(g, m, info);
    if (st == GI_OK && gi_pconv_layer_specs(m->width, m->depth, m->layers) != 0)
        st = gi_fail(GI_E_INTERNAL, "no layer table for width %d", (int)m->width);
    if (st != GI_OK) {
        free(m);
        return st;
    }
    m->nlayers = 2 * m->depth;
    *state = m;
    return GI_OK;
}

/* ---- tensors ---------------------------------------------------------------- */

/* A layer's tensors, as "<layer><suffix>". The conv bias is optional: net.py
 * gives only dec_1 one (its older version gave every layer one). */
enum { T_W, T_B, T_BN_W, T_BN_B, T_BN_MEAN, T_BN_VAR, T_PER_LAYER };
static const char *const suffix[T_PER_LAYER] = {
    ".conv.weight", ".conv.bias", ".bn.weight", ".bn.bias", ".bn.running_mean",
    ".bn.running_var"};

static int tensor_wanted(const gi_pc_layer *l, int t) { return t < T_BN_W || l->bn; }

static gi_status match_tensors(const gi_gguf *g, const gi_pconv_unet *m,
                               const gi_gguf_tensor **found) {
    char name[80], want[64], have[64];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gi_gguf_tensor *gt = &g->tensors[i];
        int slot = -1;
        for (int32_t li = 0; li < m->nlayers && slot < 0; li++) {
            const gi_pc_layer *l = &m->layers[li];
            size_t n = strlen(l->name);
            if (gt->name.len <= n || memcmp(gt->name.ptr, l->name, n) != 0) continue;
            gi_gguf_str rest = {gt->name.ptr + n, gt->name.len - n};
            for (int t = 0; t < T_PER_LAYER; t++)
                if (tensor_wanted(l, t) && gi_gguf_str_eq(rest, suffix[t]))
                    slot = li * T_PER_LAYER + t;
        }
        if (slot < 0)
            return gi_fail(GI_E_BAD_MODEL, "unexpected tensor '%s' (not part of pconv_unet "
                           "with layer_size %d)",
                           gi_gguf_printable(gt->name, name, sizeof name), (int)m->depth);
        found[slot] = gt;
    }
    for (int32_t li = 0; li < m->nlayers; li++) {
        const gi_pc_layer *l = &m->layers[li];
        for (int t = 0; t < T_PER_LAYER; t++) {
            const gi_gguf_tensor *gt = found[li * T_PER_LAYER + t];
            if (!tensor_wanted(l, t) || (!gt && t == T_B)) continue;
            if (!gt)
                return gi_fail(GI_E_BAD_MODEL, "missing tensor '%s%s'", l->name, suffix[t]);
            uint64_t d[4] = {(uint64_t)l->cout, 1, 1, 1};
            uint32_t nd = 1;
            if (t == T_W) {
                d[0] = d[1] = (uint64_t)l->k;
                d[2] = (uint64_t)l->cin;
                d[3] = (uint64_t)l->cout;
                nd = 4;
            }
            if (gt->n_dims != nd || memcmp(gt->dims, d, nd * sizeof d[0]) != 0) {
                gi_gguf_shape_str(d, nd, want, sizeof want);
                gi_gguf_shape_str(gt->dims, gt->n_dims, have, sizeof have);
                return gi_fail(GI_E_BAD_MODEL, "tensor '%s%s' has shape %s, expected %s "
                               "(width %d, layer_size %d)", l->name, suffix[t], have, want,
                               (int)m->width, (int)m->depth);
            }
        }
    }
    return GI_OK;
}

/* Tensor to float32 into dst, refusing NaN/Inf; absent: zeros. */
static gi_status read_f32(const gi_gguf_tensor *t, const gi_pc_layer *l, int which,
                          float *dst, size_t n) {
    if (!t) {
        memset(dst, 0, n * sizeof *dst);
        return GI_OK;
    }
    int is_nan = 0;
    uint64_t bad = gi_gguf_tensor_to_f32(t, dst, &is_nan);
    if (bad != t->n_elems)
        return gi_fail(GI_E_BAD_MODEL, "tensor '%s%s' contains %s at element %" PRIu64,
                       l->name, suffix[which], is_nan ? "NaN" : "Inf", bad);
    return GI_OK;
}

/* Weights into one allocation (64-byte aligned per layer), BatchNorm folded. */
static gi_status load_weights(gi_pconv_unet *m, const gi_gguf_tensor **found,
                              int64_t *param_count) {
    size_t total = 0, most = 0;
    *param_count = 0;
    for (int32_t li = 0; li < m->nlayers; li++) {
        const gi_pc_layer *l = &m->layers[li];
        size_t nw = (size_t)l->cout * l->cin * l->k * l->k;
        total += (nw + 15) / 16 * 16 + ((size_t)l->cout + 15) / 16 * 16;
        if ((size_t)l->cout > most) most = (size_t)l->cout;
        for (int t = 0; t < T_PER_LAYER; t++)
            if (found[li * T_PER_LAYER + t])
                *param_count += (int64_t)found[li * T_PER_LAYER + t]->n_elems;
    }
    m->storage = gi_aligned_alloc(64, total * sizeof(float));
    float *bn = gi_malloc(4 * most * sizeof *bn);
    if (!m->storage || !bn) {
        free(bn);
        return gi_fail(GI_E_NOMEM, "out of memory for %zu weights", total);
    }
    float *p = m->storage;
    gi_status st = GI_OK;
    for (int32_t li = 0; li < m->nlayers && st == GI_OK; li++) {
        const gi_pc_layer *l = &m->layers[li];
        const gi_gguf_tensor **f = found + li * T_PER_LAYER;
        size_t nw = (size_t)l->cout * l->cin * l->k * l->k, per = nw / (size_t)l->cout;
        gi_conv_weights *c = &m->convs[li];
        float *w = p, *b = p + (nw + 15) / 16 * 16;
        p = b + ((size_t)l->cout + 15) / 16 * 16;
        *c = (gi_conv_weights){w, b, l->cout, l->cin, l->k};
        st = read_f32(f[T_W], l, T_W, w, nw);
        if (st == GI_OK) st = read_f32(f[T_B], l, T_B, b, (size_t)l->cout);
        for (int t = T_BN_W; t < T_PER_LAYER && st == GI_OK && l->bn; t++)
            st = read_f32(f[t], l, t, bn + (size_t)(t - T_BN_W) * l->cout, (size_t)l->cout);
        if (st != GI_OK || !l->bn) continue;
        const float *gamma = bn, *beta = bn + l->cout, *mean = bn + 2 * l->cout,
                    *var = bn + 3 * l->cout;
        for (int32_t o = 0; o < l->cout && st == GI_OK; o++) {
            if (!(var[o] >= 0.0f)) {
                st = gi_fail(GI_E_BAD_MODEL, "tensor '%s.bn.running_var' is negative (%g) "
                             "at element %d", l->name, (double)var[o], (int)o);
                break;
            }
            double s = (double)gamma[o] / sqrt((double)var[o] + (double)m->bn_eps);
            int finite = 1;
            for (size_t j = 0; j < per; j++) {
                w[o * per + j] = (float)(s * w[o * per + j]);
                finite &= isfinite(w[o * per + j]);
            }
            b[o] = (float)(((double)b[o] - mean[o]) * s + beta[o]);
            if (!finite || !isfinite(b[o]))
                st = gi_fail(GI_E_BAD_MODEL, "layer %s: BatchNorm channel %d scales the "
                             "weights out of float range", l->name, (int)o);
        }
    }
    free(bn);
    return st;
}

gi_status gi_pconv_load_tensors(const gi_gguf *g, void *state, int64_t *param_count) {
    gi_pconv_unet *m = state;
    const gi_gguf_tensor *found[GI_PC_MAX_LAYERS * T_PER_LAYER] = {0};
    gi_status st = match_tensors(g, m, found);
    if (st == GI_OK) st = load_weights(m, found, param_count);
    if (st == GI_OK) st = gi_packed_cache_init(&m->packed, m->convs, m->nlayers);
    if (st == GI_OK) m->packed_ready = 1;
    return st;
}

void gi_pconv_destroy(void *state) {
    gi_pconv_unet *m = state;
    if (!m) return;
    if (m->packed_ready) gi_packed_cache_destroy(&m->packed);
    free(m->storage);
    free(m);
}
