#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/alloc.h"
#include "../api/error.h"
#include "default_model.h"
#include "gguf.h"

/* Widths the loader accepts. The architecture works for any multiple of 4;
 * the upper bound only rejects absurd headers (48 is the official width). */
#define GI_MODEL_MIN_WIDTH 4
#define GI_MODEL_MAX_WIDTH 512

/* No model comes near this; it keeps a wrong path (a disk image, a video)
 * from being read into memory whole. */
#define GI_MODEL_MAX_FILE_BYTES ((uint64_t)2 << 30)

/* Weights and biases start on 64-byte boundaries inside m->storage. */
#define GI_STORAGE_ALIGN_FLOATS 16

static void model_free(gi_model *m) {
    free(m->name);
    free(m->license);
    free(m->source_url);
    free(m->family);
    free(m->channel_order);
    free(m->storage);
    free(m);
}

/* Find a key of the given type; a missing required key or a wrong type is an
 * error. Returns NULL without error for a missing optional key. */
static gi_status find_key(const gi_gguf *g, const char *key, uint32_t type,
                          int required, const gi_gguf_kv **out) {
    const gi_gguf_kv *kv = gi_gguf_find(g, key);
    *out = kv;
    if (!kv)
        return required ? gi_fail(GI_E_BAD_MODEL, "missing required key '%s'", key)
                        : GI_OK;
    if (kv->type != type)
        return gi_fail(GI_E_BAD_MODEL, "key '%s' has type %s, expected %s", key,
                       gi_gguf_type_name(kv->type), gi_gguf_type_name(type));
    return GI_OK;
}

/* An owned NUL-terminated copy of a string key; embedded NULs would silently
 * cut the string, so they are refused. Missing optional keys give "". */
static gi_status dup_string(const gi_gguf *g, const char *key, int required,
                            char **out) {
    const gi_gguf_kv *kv;
    gi_status st = find_key(g, key, GI_GGUF_STRING, required, &kv);
    if (st != GI_OK) return st;
    gi_gguf_str s = kv ? kv->str : (gi_gguf_str){"", 0};
    if (memchr(s.ptr, '\0', (size_t)s.len))
        return gi_fail(GI_E_BAD_MODEL, "key '%s' contains a NUL byte", key);
    char *p = gi_malloc((size_t)s.len + 1);
    if (!p) return gi_fail(GI_E_NOMEM, "out of memory copying key '%s'", key);
    memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
    *out = p;
    return GI_OK;
}

static gi_status get_u32(const gi_gguf *g, const char *key, uint64_t *out) {
    const gi_gguf_kv *kv;
    gi_status st = find_key(g, key, GI_GGUF_U32, 1, &kv);
    if (st == GI_OK) *out = kv->num.u;
    return st;
}

/* gatedinpaint.input_fill values, indexed by GI_FILL_*. */
static const char *const fill_names[GI_FILL_COUNT] = {
    [GI_FILL_ZEROS] = "zeros",
    [GI_FILL_PUSHPULL] = "pushpull",
    [GI_FILL_GUIDED_PUSHPULL] = "guided_pushpull",
};

static gi_status read_metadata(const gi_gguf *g, gi_model *m) {
    char found[80];
    const gi_gguf_kv *kv;
    uint64_t v;
    gi_status st;

    if ((st = find_key(g, "general.architecture", GI_GGUF_STRING, 1, &kv)) != GI_OK)
        return st;
    if (!gi_gguf_str_eq(kv->str, "gatedinpaint"))
        return gi_fail(GI_E_BAD_MODEL, "general.architecture is '%s', expected "
                       "'gatedinpaint' (not a libgatedinpaint model)",
                       gi_gguf_printable(kv->str, found, sizeof found));
    if ((st = find_key(g, "gatedinpaint.family", GI_GGUF_STRING, 1, &kv)) != GI_OK)
        return st;
    if (!gi_gguf_str_eq(kv->str, "deepfill_v2"))
        return gi_fail(GI_E_BAD_MODEL, "model family '%s' is not supported by "
                       "this library (it runs 'deepfill_v2')",
                       gi_gguf_printable(kv->str, found, sizeof found));

    if ((st = get_u32(g, "gatedinpaint.arch_version", &v)) != GI_OK) return st;
    if (v < GI_DF_ARCH_VERSION || v > GI_DF_ARCH_VERSION_MAX)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.arch_version is %" PRIu64
                       ", this library supports %d to %d", v, GI_DF_ARCH_VERSION,
                       GI_DF_ARCH_VERSION_MAX);
    m->arch_version = (int32_t)v;

    if ((st = get_u32(g, "gatedinpaint.width", &v)) != GI_OK) return st;
    if (v % 4 != 0 || v < GI_MODEL_MIN_WIDTH || v > GI_MODEL_MAX_WIDTH)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.width is %" PRIu64 ", must "
                       "be a multiple of 4 from %d to %d", v, GI_MODEL_MIN_WIDTH,
                       GI_MODEL_MAX_WIDTH);
    m->width = (int32_t)v;

    if ((st = get_u32(g, "gatedinpaint.guide_channels", &v)) != GI_OK) return st;
    if (v > 1)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.guide_channels is %" PRIu64
                       ", must be 0 or 1", v);
    m->guide_channels = (int32_t)v;

    if ((st = find_key(g, "gatedinpaint.channel_order", GI_GGUF_STRING, 1, &kv)) != GI_OK)
        return st;
    if (gi_gguf_str_eq(kv->str, "rgb") || gi_gguf_str_eq(kv->str, "bgr"))
        m->bgr = gi_gguf_str_eq(kv->str, "bgr");
    else
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.channel_order is '%s', must "
                       "be 'rgb' or 'bgr'",
                       gi_gguf_printable(kv->str, found, sizeof found));

    if ((st = find_key(g, "gatedinpaint.attention.fuse", GI_GGUF_BOOL, 0, &kv)) != GI_OK)
        return st;
    m->fuse = kv ? (int32_t)kv->num.u : 1;

    if ((st = find_key(g, "gatedinpaint.attention.softmax_scale", GI_GGUF_F32, 0,
                       &kv)) != GI_OK)
        return st;
    m->softmax_scale = kv ? (float)kv->num.f : 10.0f;
    if (!isfinite(m->softmax_scale) || !(m->softmax_scale > 0.0f))
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.attention.softmax_scale is %g,"
                       " must be finite and > 0", (double)m->softmax_scale);

    if ((st = find_key(g, "gatedinpaint.input_fill", GI_GGUF_STRING, 0, &kv)) != GI_OK)
        return st;
    m->input_fill = GI_FILL_ZEROS;
    if (kv) {
        m->input_fill = -1;
        for (int32_t i = 0; i < GI_FILL_COUNT; i++)
            if (gi_gguf_str_eq(kv->str, fill_names[i])) m->input_fill = i;
    }
    if (m->input_fill < 0)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.input_fill is '%s', must be "
                       "'zeros', 'pushpull' or 'guided_pushpull'",
                       gi_gguf_printable(kv->str, found, sizeof found));
    /* The guided fill reads the guide plane of the network input. */
    if (m->input_fill == GI_FILL_GUIDED_PUSHPULL && m->guide_channels == 0)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.input_fill 'guided_pushpull' needs a "
                       "guide channel, the file says gatedinpaint.guide_channels 0");
    if ((st = find_key(g, "gatedinpaint.residual", GI_GGUF_BOOL, 0, &kv)) != GI_OK)
        return st;
    m->residual = kv ? (int32_t)kv->num.u : 0;
    /* Version 1 readers ignore both keys, so a file using them must say 2. */
    if ((m->input_fill != GI_FILL_ZEROS || m->residual) && m->arch_version < 2)
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.%s needs gatedinpaint.arch_version 2, "
                       "the file says %d", m->residual ? "residual" : "input_fill",
                       (int)m->arch_version);

    if ((st = dup_string(g, "gatedinpaint.family", 1, &m->family)) != GI_OK ||
        (st = dup_string(g, "gatedinpaint.channel_order", 1, &m->channel_order)) != GI_OK ||
        (st = dup_string(g, "general.name", 1, &m->name)) != GI_OK ||
        (st = dup_string(g, "general.license", 1, &m->license)) != GI_OK ||
        (st = dup_string(g, "general.source_url", 0, &m->source_url)) != GI_OK)
        return st;
    return GI_OK;
}

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

/* "24x5x5x5": dims printed outermost first, i.e. as the PyTorch shape. */
static void shape_str(const uint64_t *d, uint32_t n, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = n; i-- > 0 && len < size;) {
        int w = snprintf(buf + len, size - len, "%s%" PRIu64, i + 1 == n ? "" : "x",
                         d[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
}

/* Match the file's tensors to the 84 expected ones: nothing extra, nothing
 * missing, every shape exact. found[2*i] / found[2*i+1] receive layer i's
 * weight / bias. */
static gi_status match_tensors(const gi_gguf *g, const gi_model *m,
                               const gi_gguf_tensor **found) {
    char name[80], want[64], have[64];
    for (uint64_t t = 0; t < g->n_tensors; t++) {
        const gi_gguf_tensor *gt = &g->tensors[t];
        int slot = -1;
        for (int i = 0; i < GI_DF_NUM_LAYERS && slot < 0; i++) {
            size_t n = strlen(m->layers[i].name);
            if (gt->name.len <= n || memcmp(gt->name.ptr, m->layers[i].name, n) != 0)
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
        const gi_layer_spec *s = &m->layers[slot / 2];
        const char *kind = slot % 2 ? "bias" : "weight";
        const gi_gguf_tensor *gt = found[slot];
        if (!gt)
            return gi_fail(GI_E_BAD_MODEL, "missing tensor '%s.%s'", s->name, kind);
        uint64_t d[4];
        uint32_t n = expected_dims(s, slot % 2, d);
        if (gt->n_dims != n || memcmp(gt->dims, d, n * sizeof d[0]) != 0) {
            shape_str(d, n, want, sizeof want);
            shape_str(gt->dims, gt->n_dims, have, sizeof have);
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s.%s' has shape %s, expected "
                           "%s (width %d, %d guide channel%s)", s->name, kind, have,
                           want, m->width, m->guide_channels,
                           m->guide_channels == 1 ? "" : "s");
        }
    }
    return GI_OK;
}

static size_t round_up_floats(uint64_t n) {
    return (size_t)((n + GI_STORAGE_ALIGN_FLOATS - 1) / GI_STORAGE_ALIGN_FLOATS *
                    GI_STORAGE_ALIGN_FLOATS);
}

/* Copy every tensor as float32 into one allocation, refusing NaN/Inf. */
static gi_status load_weights(gi_model *m, const gi_gguf_tensor **found) {
    /* Each tensor fits in the file (the parser checked), so the padded total
     * is bounded by a few times the file size: no overflow here. */
    size_t total = 0;
    m->param_count = 0;
    for (int slot = 0; slot < 2 * GI_DF_NUM_LAYERS; slot++) {
        total += round_up_floats(found[slot]->n_elems);
        m->param_count += (int64_t)found[slot]->n_elems;
    }
    m->storage = gi_aligned_alloc(GI_STORAGE_ALIGN_FLOATS * sizeof(float),
                               total * sizeof(float));
    if (!m->storage)
        return gi_fail(GI_E_NOMEM, "out of memory for %zu weights", total);
    float *p = m->storage;
    for (int slot = 0; slot < 2 * GI_DF_NUM_LAYERS; slot++) {
        const gi_gguf_tensor *t = found[slot];
        int is_nan = 0;
        uint64_t bad = gi_gguf_tensor_to_f32(t, p, &is_nan);
        if (bad != t->n_elems)
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s.%s' contains %s at element %"
                           PRIu64, m->layers[slot / 2].name,
                           slot % 2 ? "bias" : "weight", is_nan ? "NaN" : "Inf", bad);
        if (slot % 2)
            m->bias[slot / 2] = p;
        else
            m->weight[slot / 2] = p;
        p += round_up_floats(t->n_elems);
    }
    return GI_OK;
}

gi_status gi_model_from_gguf(const uint8_t *data, size_t size, gi_model **out) {
    gi_gguf g;
    gi_status st = gi_gguf_parse(data, size, &g);
    if (st != GI_OK) return st;
    gi_model *m = gi_calloc(1, sizeof *m);
    if (!m) {
        gi_gguf_free(&g);
        return gi_fail(GI_E_NOMEM, "out of memory for the model");
    }
    const gi_gguf_tensor *found[2 * GI_DF_NUM_LAYERS] = {0};
    st = read_metadata(&g, m);
    if (st == GI_OK &&
        gi_deepfill_layer_specs(m->width, m->guide_channels, m->layers) != 0)
        st = gi_fail(GI_E_INTERNAL, "no layer table for width %d", m->width);
    if (st == GI_OK) st = match_tensors(&g, m, found);
    if (st == GI_OK) st = load_weights(m, found);
    gi_gguf_free(&g);
    if (st == GI_OK && pthread_mutex_init(&m->pack_lock, NULL) != 0)
        st = gi_fail(GI_E_NOMEM, "cannot create the weight-packing lock");
    if (st != GI_OK) {
        model_free(m);
        return st;
    }
    for (int i = 0; i < GI_PACK_SLOTS; i++) m->packed[i] = NULL;
    atomic_init(&m->refs, 1);
    *out = m;
    return GI_OK;
}

/* ---- public API ---------------------------------------------------------- */

gi_status gi_model_load_memory(const void *data, size_t size, gi_model **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_memory: out is NULL");
    *out = NULL;
    if (!data) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_memory: data is NULL");
    if (size == 0) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_memory: size is 0");
    gi_status st = gi_model_from_gguf(data, size, out);
    if (st != GI_OK) gi_error_prefix("gi_model_load_memory");
    return st;
}

/* Read a whole regular file into a new buffer. */
static gi_status read_file(const char *path, uint8_t **data, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gi_fail(GI_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    gi_status st = GI_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) != 0)
        st = gi_fail(GI_E_IO, "cannot stat '%s': %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = gi_fail(GI_E_IO, "'%s' is not a regular file", path);
    else if ((uint64_t)sb.st_size > GI_MODEL_MAX_FILE_BYTES)
        st = gi_fail(GI_E_BAD_MODEL, "'%s' is %" PRIu64 " bytes, larger than any "
                     "model (limit %" PRIu64 ")", path, (uint64_t)sb.st_size,
                     GI_MODEL_MAX_FILE_BYTES);
    else if (!(buf = gi_malloc(sb.st_size ? (size_t)sb.st_size : 1)))
        st = gi_fail(GI_E_NOMEM, "out of memory reading '%s' (%" PRIu64 " bytes)",
                     path, (uint64_t)sb.st_size);
    size_t len = (size_t)sb.st_size, got = 0;
    while (st == GI_OK && got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            st = gi_fail(GI_E_IO, "cannot read '%s': %s", path, strerror(errno));
        else if (r == 0) /* shrank while we read it */
            st = gi_fail(GI_E_IO, "'%s' ended after %zu of %zu bytes", path, got, len);
        else
            got += (size_t)r;
    }
    close(fd);
    if (st != GI_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = len;
    return GI_OK;
}

gi_status gi_model_load_file(const char *path, gi_model **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_file: out is NULL");
    *out = NULL;
    if (!path) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_file: path is NULL");
    uint8_t *data = NULL;
    size_t size = 0;
    gi_status st = read_file(path, &data, &size);
    if (st != GI_OK) {
        gi_error_prefix("gi_model_load_file");
        return st;
    }
    st = gi_model_from_gguf(data, size, out);
    free(data);
    if (st != GI_OK) {
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "gi_model_load_file: '%s'", path);
        gi_error_prefix(prefix);
    }
    return st;
}

gi_status gi_model_load_default(gi_model **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_model_load_default: out is NULL");
    *out = NULL;
    if (gi_default_model_size == 0)
        return gi_fail(GI_E_UNSUPPORTED,
                       "gi_model_load_default: this build has no embedded default model");
    gi_status st = gi_model_from_gguf(gi_default_model_data, gi_default_model_size, out);
    if (st != GI_OK) gi_error_prefix("gi_model_load_default");
    return st;
}

gi_model *gi_model_retain(gi_model *m) {
    if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void gi_model_release(gi_model *m) {
    /* acq_rel: the freeing thread must see every other holder's writes (the
     * packed weights built under pack_lock) before tearing down. */
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    gi_graph_free_packed(m);
    pthread_mutex_destroy(&m->pack_lock);
    model_free(m);
}

gi_status gi_model_get_string(const gi_model *m, int32_t prop, const char **out) {
    if (!m) return gi_fail(GI_E_INVALID_ARG, "gi_model_get_string: m is NULL");
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_model_get_string: out is NULL");
    switch (prop) {
    case GI_MODEL_FAMILY: *out = m->family; return GI_OK;
    case GI_MODEL_NAME: *out = m->name; return GI_OK;
    case GI_MODEL_LICENSE: *out = m->license; return GI_OK;
    case GI_MODEL_SOURCE_URL: *out = m->source_url; return GI_OK;
    case GI_MODEL_CHANNEL_ORDER: *out = m->channel_order; return GI_OK;
    case GI_MODEL_INPUT_FILL: *out = fill_names[m->input_fill]; return GI_OK;
    case GI_MODEL_WIDTH: case GI_MODEL_GUIDE_CHANNELS: case GI_MODEL_ARCH_VERSION:
    case GI_MODEL_PARAM_COUNT: case GI_MODEL_RESIDUAL:
        return gi_fail(GI_E_INVALID_ARG, "gi_model_get_string: property %" PRId32
                       " is an integer, use gi_model_get_int", prop);
    default:
        return gi_fail(GI_E_INVALID_ARG, "gi_model_get_string: unknown property %"
                       PRId32, prop);
    }
}

gi_status gi_model_get_int(const gi_model *m, int32_t prop, int64_t *out) {
    if (!m) return gi_fail(GI_E_INVALID_ARG, "gi_model_get_int: m is NULL");
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_model_get_int: out is NULL");
    switch (prop) {
    case GI_MODEL_WIDTH: *out = m->width; return GI_OK;
    case GI_MODEL_GUIDE_CHANNELS: *out = m->guide_channels; return GI_OK;
    case GI_MODEL_ARCH_VERSION: *out = m->arch_version; return GI_OK;
    case GI_MODEL_PARAM_COUNT: *out = m->param_count; return GI_OK;
    case GI_MODEL_RESIDUAL: *out = m->residual; return GI_OK;
    case GI_MODEL_FAMILY: case GI_MODEL_NAME: case GI_MODEL_LICENSE:
    case GI_MODEL_SOURCE_URL: case GI_MODEL_CHANNEL_ORDER: case GI_MODEL_INPUT_FILL:
        return gi_fail(GI_E_INVALID_ARG, "gi_model_get_int: property %" PRId32
                       " is a string, use gi_model_get_string", prop);
    default:
        return gi_fail(GI_E_INVALID_ARG, "gi_model_get_int: unknown property %"
                       PRId32, prop);
    }
}
