#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "../common/gguf.h"
#include "default_model.h"

/* No model comes near this; it keeps a wrong path (a disk image, a video)
 * from being read into memory whole. */
#define GI_MODEL_MAX_FILE_BYTES ((uint64_t)2 << 30)

/* Without gatedinpaint.working_size: the official models were trained on
 * 256x256 crops and are used on images up to about 512x680. */
#define GI_MODEL_DEFAULT_WORKING_SIZE 512

static void model_free(gi_model *m) {
    if (m->family && m->state) m->family->destroy(m->state);
    free(m->name);
    free(m->license);
    free(m->source_url);
    free(m->family_name);
    free(m->channel_order);
    free(m);
}

/* An owned NUL-terminated copy of a string key; embedded NULs would silently
 * cut the string, so they are refused. Missing optional keys give "". */
static gi_status dup_string(const gi_gguf *g, const char *key, int required,
                            char **out) {
    const gi_gguf_kv *kv;
    gi_status st = gi_gguf_find_key(g, key, GI_GGUF_STRING, required, &kv);
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

/* The keys every model has, the family's own keys, then the strings kept
 * for the GI_MODEL_* properties (in this order, so that a file with several
 * faults is reported the same way by every version). */
static gi_status read_metadata(const gi_gguf *g, gi_model *m) {
    char found[80], list[200];
    const gi_gguf_kv *kv;
    gi_status st;

    if ((st = gi_gguf_find_key(g, "general.architecture", GI_GGUF_STRING, 1, &kv)) != GI_OK)
        return st;
    if (!gi_gguf_str_eq(kv->str, "gatedinpaint"))
        return gi_fail(GI_E_BAD_MODEL, "general.architecture is '%s', expected "
                       "'gatedinpaint' (not a libgatedinpaint model)",
                       gi_gguf_printable(kv->str, found, sizeof found));
    if ((st = gi_gguf_find_key(g, "gatedinpaint.family", GI_GGUF_STRING, 1, &kv)) != GI_OK)
        return st;
    m->family = gi_family_find(kv->str);
    if (!m->family) {
        gi_family_list(list, sizeof list);
        return gi_fail(GI_E_BAD_MODEL, "model family '%s' is not supported by "
                       "this library (it runs %s)",
                       gi_gguf_printable(kv->str, found, sizeof found), list);
    }
    if ((st = m->family->read_metadata(g, &m->info, &m->state)) != GI_OK) return st;
    if ((st = gi_gguf_find_key(g, "gatedinpaint.working_size", GI_GGUF_U32, 0, &kv)) != GI_OK)
        return st;
    m->working_size = kv ? (int32_t)kv->num.u : GI_MODEL_DEFAULT_WORKING_SIZE;
    if (kv && (kv->num.u < 64 || kv->num.u > 8192))
        return gi_fail(GI_E_BAD_MODEL, "gatedinpaint.working_size is %" PRIu64 ", must be "
                       "64 to 8192", kv->num.u);

    if ((st = dup_string(g, "gatedinpaint.family", 1, &m->family_name)) != GI_OK ||
        (st = dup_string(g, "gatedinpaint.channel_order", 1, &m->channel_order)) != GI_OK ||
        (st = dup_string(g, "general.name", 1, &m->name)) != GI_OK ||
        (st = dup_string(g, "general.license", 1, &m->license)) != GI_OK ||
        (st = dup_string(g, "general.source_url", 0, &m->source_url)) != GI_OK)
        return st;
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
    st = read_metadata(&g, m);
    if (st == GI_OK) st = m->family->load_tensors(&g, m->state, &m->info.param_count);
    gi_gguf_free(&g);
    if (st != GI_OK) {
        model_free(m);
        return st;
    }
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
    model_free(m);
}

/* Every GI_MODEL_* property: 1 = string, 0 = integer (append-only, as the
 * header's enum). */
static int prop_kind(int32_t prop) {
    switch (prop) {
    case GI_MODEL_FAMILY: case GI_MODEL_NAME: case GI_MODEL_LICENSE:
    case GI_MODEL_SOURCE_URL: case GI_MODEL_CHANNEL_ORDER: case GI_MODEL_INPUT_FILL:
        return 1;
    case GI_MODEL_WIDTH: case GI_MODEL_GUIDE_CHANNELS: case GI_MODEL_ARCH_VERSION:
    case GI_MODEL_PARAM_COUNT: case GI_MODEL_RESIDUAL: case GI_MODEL_WORKING_SIZE:
        return 0;
    default:
        return -1;
    }
}

/* The value of a property of the right kind: shared metadata here, the rest
 * from the family. */
static gi_status prop_value(const gi_model *m, const char *fn, int32_t prop, int64_t *ival,
                            const char **sval) {
    switch (prop) {
    case GI_MODEL_FAMILY: *sval = m->family_name; return GI_OK;
    case GI_MODEL_NAME: *sval = m->name; return GI_OK;
    case GI_MODEL_LICENSE: *sval = m->license; return GI_OK;
    case GI_MODEL_SOURCE_URL: *sval = m->source_url; return GI_OK;
    case GI_MODEL_CHANNEL_ORDER: *sval = m->channel_order; return GI_OK;
    case GI_MODEL_WIDTH: *ival = m->info.width; return GI_OK;
    case GI_MODEL_GUIDE_CHANNELS: *ival = m->info.guide_channels; return GI_OK;
    case GI_MODEL_ARCH_VERSION: *ival = m->info.arch_version; return GI_OK;
    case GI_MODEL_PARAM_COUNT: *ival = m->info.param_count; return GI_OK;
    case GI_MODEL_WORKING_SIZE: *ival = m->working_size; return GI_OK;
    default:
        if (m->family->property(m->state, prop, ival, sval) == GI_OK) return GI_OK;
        return gi_fail(GI_E_UNSUPPORTED, "%s: property %" PRId32 " is not defined for "
                       "model family '%s'", fn, prop, m->family_name);
    }
}

static gi_status get_prop(const gi_model *m, const char *fn, int32_t prop, int want_string,
                          int64_t *ival, const char **sval) {
    if (!m) return gi_fail(GI_E_INVALID_ARG, "%s: m is NULL", fn);
    if (!(want_string ? (void *)sval : (void *)ival))
        return gi_fail(GI_E_INVALID_ARG, "%s: out is NULL", fn);
    int kind = prop_kind(prop);
    if (kind < 0)
        return gi_fail(GI_E_INVALID_ARG, "%s: unknown property %" PRId32, fn, prop);
    if (kind != want_string)
        return gi_fail(GI_E_INVALID_ARG, "%s: property %" PRId32 " is %s, use %s", fn, prop,
                       kind ? "a string" : "an integer",
                       kind ? "gi_model_get_string" : "gi_model_get_int");
    return prop_value(m, fn, prop, ival, sval);
}

gi_status gi_model_get_string(const gi_model *m, int32_t prop, const char **out) {
    int64_t unused;
    return get_prop(m, "gi_model_get_string", prop, 1, &unused, out);
}

gi_status gi_model_get_int(const gi_model *m, int32_t prop, int64_t *out) {
    const char *unused;
    return get_prop(m, "gi_model_get_int", prop, 0, out, &unused);
}
