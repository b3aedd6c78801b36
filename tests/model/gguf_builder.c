#include "gguf_builder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "families/deepfill_v2.h"
#include "families/pconv_unet.h"

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "gguf_builder: out of memory\n");
        abort();
    }
    return p;
}

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap) b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_le(buf *b, uint64_t v, int n) {
    uint8_t tmp[8];
    for (int i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    put(b, tmp, (size_t)n);
}

static void put_str(buf *b, const char *s) {
    put_le(b, strlen(s), 8);
    put(b, s, strlen(s));
}

tb_file *tb_new(void) {
    tb_file *f = calloc(1, sizeof *f);
    if (!f) abort();
    memcpy(f->magic, "GGUF", 4);
    f->version = 3;
    f->tensor_count = f->kv_count = -1;
    f->alignment = 32;
    return f;
}

void tb_free(tb_file *f) { free(f); }

static tb_kv *find_kv(tb_file *f, const char *key) {
    for (int i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) return &f->kv[i];
    return NULL;
}

static void fill_kv(tb_kv *kv, const char *key, uint32_t type, const void *value,
                    size_t len) {
    if (len > TB_MAX_VALUE || strlen(key) >= sizeof kv->key) abort();
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->type = type;
    memcpy(kv->value, value, len);
    kv->value_len = len;
}

void tb_add_raw(tb_file *f, const char *key, uint32_t type, const void *value,
                size_t len) {
    if (f->n_kv == TB_MAX_KV) abort();
    fill_kv(&f->kv[f->n_kv++], key, type, value, len);
}

void tb_set_raw(tb_file *f, const char *key, uint32_t type, const void *value,
                size_t len) {
    tb_kv *kv = find_kv(f, key);
    if (kv)
        fill_kv(kv, key, type, value, len);
    else
        tb_add_raw(f, key, type, value, len);
}

void tb_set_u32(tb_file *f, const char *key, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    tb_set_raw(f, key, 4, b, 4);
}

void tb_set_bool(tb_file *f, const char *key, int v) {
    uint8_t b = (uint8_t)v;
    tb_set_raw(f, key, 7, &b, 1);
}

void tb_set_f32(tb_file *f, const char *key, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
                    (uint8_t)(u >> 24)};
    tb_set_raw(f, key, 6, b, 4);
}

void tb_set_str(tb_file *f, const char *key, const char *s) {
    buf b = {0};
    put_str(&b, s);
    tb_set_raw(f, key, 8, b.p, b.n);
    free(b.p);
}

int tb_remove_kv(tb_file *f, const char *key) {
    tb_kv *kv = find_kv(f, key);
    if (!kv) return 0;
    memmove(kv, kv + 1, (size_t)(f->kv + f->n_kv - (kv + 1)) * sizeof *kv);
    f->n_kv--;
    return 1;
}

tb_tensor *tb_find_tensor(tb_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

tb_tensor *tb_add_tensor(tb_file *f, const char *name, uint32_t n_dims,
                         const uint64_t *dims, uint32_t type) {
    if (f->n_tensors == TB_MAX_TENSORS || n_dims > 5) abort();
    tb_tensor *t = &f->t[f->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    memcpy(t->dims, dims, n_dims * sizeof *dims);
    t->type = type;
    t->offset = -1;
    t->seed = (uint32_t)f->n_tensors;
    t->poison_index = -1;
    return t;
}

int tb_remove_tensor(tb_file *f, const char *name) {
    tb_tensor *t = tb_find_tensor(f, name);
    if (!t) return 0;
    memmove(t, t + 1, (size_t)(f->t + f->n_tensors - (t + 1)) * sizeof *t);
    f->n_tensors--;
    return 1;
}

/* A new file with the keys every model has, for `family`. */
static tb_file *model_file(const char *name, const char *family, int width) {
    tb_file *f = tb_new();
    f->alignment = 64;
    tb_set_str(f, "general.architecture", "gatedinpaint");
    tb_set_u32(f, "general.alignment", 64);
    tb_set_str(f, "general.name", name);
    tb_set_str(f, "general.license", "CC0-1.0");
    tb_set_str(f, "gatedinpaint.family", family);
    tb_set_u32(f, "gatedinpaint.arch_version", 1);
    tb_set_u32(f, "gatedinpaint.width", (uint32_t)width);
    tb_set_str(f, "gatedinpaint.channel_order", "rgb");
    return f;
}

tb_file *tb_model(int width, int guide, uint32_t type) {
    gi_layer_spec specs[GI_DF_NUM_LAYERS];
    if (gi_deepfill_layer_specs(width, guide, specs) != 0) abort();
    tb_file *f = model_file("tiny test model", "deepfill_v2", width);
    tb_set_str(f, "general.source_url", "https://example.invalid/tiny");
    tb_set_u32(f, "gatedinpaint.guide_channels", (uint32_t)guide);
    tb_set_bool(f, "gatedinpaint.attention.fuse", 1);
    tb_set_f32(f, "gatedinpaint.attention.softmax_scale", 10.0f);
    /* ignored extras, so the reader's skipping of arrays is exercised */
    tb_set_str(f, "gatedinpaint.converted_from", "tests/model/gguf_builder.c");
    static const uint8_t u32s[] = {4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
                                   1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
    tb_set_raw(f, "test.array_u32", 9, u32s, sizeof u32s);
    buf b = {0};
    put_le(&b, 8, 4); /* element type string */
    put_le(&b, 2, 8);
    put_str(&b, "a");
    put_str(&b, "bc");
    tb_set_raw(f, "test.array_str", 9, b.p, b.n);
    free(b.p);

    int n = 0;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        const gi_layer_spec *s = &specs[i];
        char name[300];
        uint64_t wd[4] = {(uint64_t)s->k, (uint64_t)s->k, (uint64_t)s->cin,
                          (uint64_t)s->cconv};
        uint64_t bd[1] = {(uint64_t)s->cconv};
        snprintf(name, sizeof name, "%s.weight", s->name);
        tb_add_tensor(f, name, 4, wd, type == 2 ? (uint32_t)(n++ % 2) : type);
        snprintf(name, sizeof name, "%s.bias", s->name);
        tb_add_tensor(f, name, 1, bd, type == 2 ? (uint32_t)(n++ % 2) : type);
    }
    return f;
}

tb_file *tb_pconv_model(int width, int depth, uint32_t type, int all_biases) {
    gi_pc_layer l[GI_PC_MAX_LAYERS];
    if (gi_pconv_layer_specs(width, depth, l) != 0) abort();
    tb_file *f = model_file("tiny pconv test model", "pconv_unet", width);
    tb_set_u32(f, "gatedinpaint.pconv.layer_size", (uint32_t)depth);
    static const char *const bn[] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 2 * depth; i++) {
        char name[300];
        uint64_t wd[4] = {(uint64_t)l[i].k, (uint64_t)l[i].k, (uint64_t)l[i].cin,
                          (uint64_t)l[i].cout};
        uint64_t cd[1] = {(uint64_t)l[i].cout};
        snprintf(name, sizeof name, "%.7s.conv.weight", l[i].name);
        tb_add_tensor(f, name, 4, wd, type);
        if (all_biases || strcmp(l[i].name, "dec_1") == 0) {
            snprintf(name, sizeof name, "%.7s.conv.bias", l[i].name);
            tb_add_tensor(f, name, 1, cd, type);
        }
        for (int b = 0; b < 4 && l[i].bn; b++) {
            snprintf(name, sizeof name, "%.7s.bn.%s", l[i].name, bn[b]);
            tb_add_tensor(f, name, 1, cd, type)->nonneg = b == 3;
        }
    }
    return f;
}

float tb_value(uint32_t seed, uint64_t i) {
    uint64_t h = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (i + 1) * 0xD1B54A32D192ED03ull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    int k = (int)(h % 2047) - 1023;
    return h >> 40 & 7 ? (float)k / 1024.0f : ldexpf((float)k, -24);
}

uint16_t tb_float_to_half(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    float a = fabsf(f);
    if (a == 0.0f) return sign;
    if (a < 0x1p-14f) return sign | (uint16_t)(a * 0x1p24f); /* subnormal */
    int e;
    float m = frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    return sign | (uint16_t)((e + 14) << 10) | (uint16_t)((m * 2.0f - 1.0f) * 1024.0f);
}

/* Bytes of data the builder writes for a tensor: none when the declared
 * shape is absurd (those files are malformed on purpose). */
static uint64_t data_bytes(const tb_tensor *t) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims && d < 5; d++) {
        if (t->dims[d] == 0 || n > (1u << 24) / t->dims[d]) return 0;
        n *= t->dims[d];
    }
    return n * (t->type == 1 ? 2 : 4);
}

uint8_t *tb_serialize(const tb_file *f, size_t *size, size_t *data_start) {
    buf b = {0};
    uint64_t layout[TB_MAX_TENSORS], pos = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        layout[i] = pos;
        pos += data_bytes(&f->t[i]);
        pos = (pos + f->alignment - 1) / f->alignment * f->alignment;
    }

    put(&b, f->magic, 4);
    put_le(&b, f->version, 4);
    put_le(&b, f->tensor_count >= 0 ? (uint64_t)f->tensor_count : (uint64_t)f->n_tensors, 8);
    put_le(&b, f->kv_count >= 0 ? (uint64_t)f->kv_count : (uint64_t)f->n_kv, 8);
    for (int i = 0; i < f->n_kv; i++) {
        put_str(&b, f->kv[i].key);
        put_le(&b, f->kv[i].type, 4);
        put(&b, f->kv[i].value, f->kv[i].value_len);
    }
    for (int i = 0; i < f->n_tensors; i++) {
        const tb_tensor *t = &f->t[i];
        put_str(&b, t->name);
        put_le(&b, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) put_le(&b, t->dims[d], 8);
        put_le(&b, t->type, 4);
        put_le(&b, t->offset >= 0 ? (uint64_t)t->offset : layout[i], 8);
    }
    while (b.n % f->alignment) put_le(&b, 0, 1);
    size_t start = b.n;
    for (int i = 0; i < f->n_tensors; i++) {
        const tb_tensor *t = &f->t[i];
        while (b.n < start + layout[i]) put_le(&b, 0, 1);
        uint64_t bytes = data_bytes(t), esize = t->type == 1 ? 2 : 4;
        for (uint64_t e = 0; e < bytes / esize; e++) {
            float v = tb_value(t->seed, e);
            if (t->nonneg) v = fabsf(v);
            uint32_t bits;
            if (t->poison_index >= 0 && (uint64_t)t->poison_index == e)
                bits = t->poison_bits;
            else if (esize == 2)
                bits = tb_float_to_half(v);
            else
                memcpy(&bits, &v, 4);
            put_le(&b, bits, (int)esize);
        }
    }
    while (b.n < start + pos) put_le(&b, 0, 1);
    *size = b.n;
    if (data_start) *data_start = start;
    return b.p;
}
