/* DeepFill v2 models from GGUF: the layer table (deepfill_v2_layers.def),
 * the family's metadata keys and the check of every tensor against the
 * table. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "deepfill_v2.h"

/* Widths the loader accepts. The architecture works for any multiple of 4;
 * the upper bound only rejects absurd headers (48 is the official width). */
#define GI_MODEL_MIN_WIDTH 4
#define GI_MODEL_MAX_WIDTH 512

/* Weights and biases start on 64-byte boundaries inside the storage. */
#define GI_STORAGE_ALIGN_FLOATS 16

/* ---- the layer table ----------------------------------------------------- */

/* Channel counts are written as multiples of cnum/4 ("q") so that every
 * width divisible by 4 works. */
typedef struct {
    const char *name;
    int8_t cin_q, cconv_q; /* in units of cnum/4; cin_q < 0: image channels */
    int8_t k, stride, dil, act, up;
} row;

#define ELU GI_ACT_ELU_GATED
#define RELU GI_ACT_RELU_GATED
#define TANH GI_ACT_TANH
#define IMG (-1)  /* 3 colour channels (+ guide, ones, mask for conv1) */
#define RGB3 (-2) /* exactly 3 colour channels */

static const row table[GI_DF_NUM_LAYERS] = {
#define LAYER(name, cin_q, cconv_q, k, stride, dil, act, up) \
    {#name, cin_q, cconv_q, k, stride, dil, act, up},
#include "deepfill_v2_layers.def"
#undef LAYER
};

int gi_deepfill_layer_specs(int32_t cnum, int32_t guide_channels,
                            gi_layer_spec out[GI_DF_NUM_LAYERS]) {
    if (cnum <= 0 || cnum % 4 != 0 || cnum > 4096) return -1;
    if (guide_channels != 0 && guide_channels != 1) return -1;
    int32_t q = cnum / 4;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        const row *r = &table[i];
        gi_layer_spec *s = &out[i];
        s->name = r->name;
        if (r->cin_q == IMG)
            s->cin = 3 + guide_channels + 2; /* colour, guide, ones, mask */
        else if (r->cin_q == RGB3)
            s->cin = 3;
        else
            s->cin = r->cin_q * q;
        s->cconv = r->cconv_q ? r->cconv_q * q : 3; /* output layers: colour */
        s->k = r->k;
        s->stride = r->stride;
        s->dilation = r->dil;
        s->act = r->act;
        s->upsample = r->up;
        s->cout = (r->act == GI_ACT_ELU_GATED || r->act == GI_ACT_RELU_GATED)
                      ? s->cconv / 2
                      : s->cconv;
    }
    return 0;
}

/* ---- metadata -------------------------------------------------------------- */

/* gatedinpaint.input_fill values, indexed by GI_FILL_*. */
static const char *const fill_names[GI_FILL_COUNT] = {
    [GI_FILL_ZEROS] = "zeros",
    [GI_FILL_PUSHPULL] = "pushpull",
    [GI_FILL_GUIDED_PUSHPULL] = "guided_pushpull",
    [GI_FILL_RING_WARP] = "ring_warp",
};

const char *gi_deepfill_fill_name(int32_t fill) { return fill_names[fill]; }

static gi_status read_keys(const gi_gguf *g, gi_deepfill *df, gi_family_info *info) {
    char found[80];
    const gi_gguf_kv *kv;
    uint64_t v;
    gi_status st;

    if ((st = gi_gguf_get_u32(g, "gatedinpaint.arch_version", &v)) != GI_OK) return st;
    if (v < GI_DF_ARCH_VERSION || v > GI_DF_ARCH_VERSION_MAX)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.arch_version is %" PRIu64
                       ", this library supports %d to %d", v, GI_DF_ARCH_VERSION,
                       GI_DF_ARCH_VERSION_MAX);
    info->arch_version = (int32_t)v;

    if ((st = gi_gguf_get_u32(g, "gatedinpaint.width", &v)) != GI_OK) return st;
    if (v % 4 != 0 || v < GI_MODEL_MIN_WIDTH || v > GI_MODEL_MAX_WIDTH)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.width is %" PRIu64 ", must "
                       "be a multiple of 4 from %d to %d", v, GI_MODEL_MIN_WIDTH,
                       GI_MODEL_MAX_WIDTH);
    df->width = info->width = (int32_t)v;

    if ((st = gi_gguf_get_u32(g, "gatedinpaint.guide_channels", &v)) != GI_OK) return st;
    if (v > 1)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.guide_channels is %" PRIu64
                       ", must be 0 or 1", v);
    df->guide_channels = info->guide_channels = (int32_t)v;

    if ((st = gi_gguf_find_key(g, "gatedinpaint.channel_order", GI_GGUF_STRING, 1, &kv)) !=
        GI_OK)
        return st;
    if (gi_gguf_str_eq(kv->str, "rgb") || gi_gguf_str_eq(kv->str, "bgr"))
        df->bgr = gi_gguf_str_eq(kv->str, "bgr");
    else
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.channel_order is '%s', must "
                       "be 'rgb' or 'bgr'",
                       gi_gguf_printable(kv->str, found, sizeof found));

    if ((st = gi_gguf_find_key(g, "gatedinpaint.attention.fuse", GI_GGUF_BOOL, 0, &kv)) !=
        GI_OK)
        return st;
    df->fuse = kv ? (int32_t)kv->num.u : 1;

    if ((st = gi_gguf_find_key(g, "gatedinpaint.attention.softmax_scale", GI_GGUF_F32, 0,
                               &kv)) != GI_OK)
        return st;
    df->softmax_scale = kv ? (float)kv->num.f : 10.0f;
    if (!isfinite(df->softmax_scale) || !(df->softmax_scale > 0.0f))
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.attention.softmax_scale is %g,"
                       " must be finite and > 0", (double)df->softmax_scale);

    if ((st = gi_gguf_find_key(g, "gatedinpaint.input_fill", GI_GGUF_STRING, 0, &kv)) !=
        GI_OK)
        return st;
    df->input_fill = GI_FILL_ZEROS;
    if (kv) {
        df->input_fill = -1;
        for (int32_t i = 0; i < GI_FILL_COUNT; i++)
            if (gi_gguf_str_eq(kv->str, fill_names[i])) df->input_fill = i;
    }
    if (df->input_fill < 0)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.input_fill is '%s', must be "
                       "'zeros', 'pushpull', 'guided_pushpull' or 'ring_warp'",
                       gi_gguf_printable(kv->str, found, sizeof found));
    if (GI_FILL_READS_GUIDE(df->input_fill) && df->guide_channels == 0)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.input_fill '%s' needs a guide channel, "
                       "the file says gatedinpaint.guide_channels 0",
                       fill_names[df->input_fill]);
    if ((st = gi_gguf_find_key(g, "gatedinpaint.residual", GI_GGUF_BOOL, 0, &kv)) != GI_OK)
        return st;
    df->residual = kv ? (int32_t)kv->num.u : 0;
    /* Version 1 readers ignore both keys, so a file using them must say 2. */
    if ((df->input_fill != GI_FILL_ZEROS || df->residual) && info->arch_version < 2)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.%s needs gatedinpaint.arch_version 2, "
                       "the file says %d", df->residual ? "residual" : "input_fill",
                       (int)info->arch_version);
    /* The graph halves the size three times. */
    info->pad_multiple = 8;
    info->aggregates = 1;
    return GI_OK;
}

gi_status gi_deepfill_read_metadata(const gi_gguf *g, gi_family_info *info, void **state) {
    gi_deepfill *df = gi_calloc(1, sizeof *df);
    if (!df) return gi_fail(GI_E_NOMEM, "out of memory for the model");
    gi_status st = read_keys(g, df, info);
    if (st == GI_OK && gi_deepfill_layer_specs(df->width, df->guide_channels, df->layers) != 0)
        st = gi_fail(GI_E_INTERNAL, "no layer table for width %d", df->width);
    if (st != GI_OK) {
        free(df);
        return st;
    }
    *state = df;
    return GI_OK;
}

/* ---- tensors ---------------------------------------------------------------- */

/* Expected ggml dims of a layer's weight ([k, k, cin, cconv]) or bias. */
static uint32_t expected_dims(const gi_layer_spec *s, int is_bias, uint64_t d[4]) {
    if (is_bias) {
        d[0] = (uint64_t)s->cconv;
        return 1;
    }
    d[0] = d[1] = (uint64_t)s->k;
    d[2] = (uint64_t)s->cin;
    d[3] = (uint64_t)s->cconv;
    return 4;
}

/* Match the file's tensors to the 84 expected ones: nothing extra, nothing
 * missing, every shape exact. found[2*i] / found[2*i+1] receive layer i's
 * weight / bias. */
static gi_status match_tensors(const gi_gguf *g, const gi_deepfill *df,
                               const gi_gguf_tensor **found) {
    char name[80], want[64], have[64];
    for (uint64_t t = 0; t < g->n_tensors; t++) {
        const gi_gguf_tensor *gt = &g->tensors[t];
        int slot = -1;
        for (int i = 0; i < GI_DF_NUM_LAYERS && slot < 0; i++) {
            size_t n = strlen(df->layers[i].name);
            if (gt->name.len <= n || memcmp(gt->name.ptr, df->layers[i].name, n) != 0)
                continue;
            gi_gguf_str suffix = {gt->name.ptr + n, gt->name.len - n};
            if (gi_gguf_str_eq(suffix, ".weight"))
                slot = 2 * i;
            else if (gi_gguf_str_eq(suffix, ".bias"))
                slot = 2 * i + 1;
        }
        if (slot < 0)
            return gi_fail(GI_E_BAD_MODEL, "unexpected tensor '%s' (not part of "
                           "deepfill_v2)", gi_gguf_printable(gt->name, name, sizeof name));
        found[slot] = gt; /* the parser already refused duplicate names */
    }
    for (int slot = 0; slot < 2 * GI_DF_NUM_LAYERS; slot++) {
        const gi_layer_spec *s = &df->layers[slot / 2];
        const char *kind = slot % 2 ? "bias" : "weight";
        const gi_gguf_tensor *gt = found[slot];
        if (!gt)
            return gi_fail(GI_E_BAD_MODEL, "missing tensor '%s.%s'", s->name, kind);
        uint64_t d[4];
        uint32_t n = expected_dims(s, slot % 2, d);
        if (gt->n_dims != n || memcmp(gt->dims, d, n * sizeof d[0]) != 0) {
            gi_gguf_shape_str(d, n, want, sizeof want);
            gi_gguf_shape_str(gt->dims, gt->n_dims, have, sizeof have);
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s.%s' has shape %s, expected "
                           "%s (width %d, %d guide channel%s)", s->name, kind, have,
                           want, df->width, df->guide_channels,
                           df->guide_channels == 1 ? "" : "s");
        }
    }
    return GI_OK;
}

static size_t round_up_floats(uint64_t n) {
    return (size_t)((n + GI_STORAGE_ALIGN_FLOATS - 1) / GI_STORAGE_ALIGN_FLOATS *
                    GI_STORAGE_ALIGN_FLOATS);
}

/* Copy every tensor as float32 into one allocation, refusing NaN/Inf. */
static gi_status load_weights(gi_deepfill *df, const gi_gguf_tensor **found,
                              int64_t *param_count) {
    /* Each tensor fits in the file (the parser checked), so the padded total
     * is bounded by a few times the file size: no overflow here. */
    size_t total = 0;
    *param_count = 0;
    for (int slot = 0; slot < 2 * GI_DF_NUM_LAYERS; slot++) {
        total += round_up_floats(found[slot]->n_elems);
        *param_count += (int64_t)found[slot]->n_elems;
    }
    df->storage = gi_aligned_alloc(GI_STORAGE_ALIGN_FLOATS * sizeof(float),
                                   total * sizeof(float));
    if (!df->storage) return gi_fail(GI_E_NOMEM, "out of memory for %zu weights", total);
    float *p = df->storage;
    for (int slot = 0; slot < 2 * GI_DF_NUM_LAYERS; slot++) {
        const gi_gguf_tensor *t = found[slot];
        const gi_layer_spec *l = &df->layers[slot / 2];
        int is_nan = 0;
        uint64_t bad = gi_gguf_tensor_to_f32(t, p, &is_nan);
        if (bad != t->n_elems)
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s.%s' contains %s at element %"
                           PRIu64, l->name, slot % 2 ? "bias" : "weight",
                           is_nan ? "NaN" : "Inf", bad);
        gi_conv_weights *c = &df->convs[slot / 2];
        if (slot % 2)
            c->bias = p;
        else
            c->weight = p;
        c->cconv = l->cconv;
        c->cin = l->cin;
        c->k = l->k;
        p += round_up_floats(t->n_elems);
    }
    return GI_OK;
}

gi_status gi_deepfill_load_tensors(const gi_gguf *g, void *state, int64_t *param_count) {
    gi_deepfill *df = state;
    const gi_gguf_tensor *found[2 * GI_DF_NUM_LAYERS] = {0};
    gi_status st = match_tensors(g, df, found);
    if (st == GI_OK) st = load_weights(df, found, param_count);
    if (st == GI_OK) st = gi_packed_cache_init(&df->packed, df->convs, GI_DF_NUM_LAYERS);
    if (st == GI_OK) df->packed_ready = 1;
    return st;
}

void gi_deepfill_destroy(void *state) {
    gi_deepfill *df = state;
    if (!df) return;
    if (df->packed_ready) gi_packed_cache_destroy(&df->packed);
    free(df->storage);
    free(df);
}

gi_status gi_deepfill_property(const void *state, int32_t prop, int64_t *ival,
                               const char **sval) {
    const gi_deepfill *df = state;
    switch (prop) {
    case GI_MODEL_INPUT_FILL: *sval = fill_names[df->input_fill]; return GI_OK;
    case GI_MODEL_RESIDUAL: *ival = df->residual; return GI_OK;
    default: return GI_E_UNSUPPORTED;
    }
}
