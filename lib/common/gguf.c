#include "gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

/* A read position in the file image. Every read goes through need(), which
 * compares against the bytes left, so no sum can overflow. */
typedef struct {
    const uint8_t *data;
    size_t size, pos;
} cursor;

/* What is being read, for messages: "key #3", "tensor info #5", ... */
typedef char what_buf[320];

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static gi_status need(const cursor *c, uint64_t n, const char *what) {
    if (n > c->size - c->pos)
        return gi_fail(GI_E_BAD_MODEL,
                       "truncated file: %s at offset %zu needs %" PRIu64
                       " bytes, only %zu left",
                       what, c->pos, n, c->size - c->pos);
    return GI_OK;
}

static gi_status read_uint(cursor *c, int n, uint64_t *v, const char *what) {
    gi_status st = need(c, (uint64_t)n, what);
    if (st != GI_OK) return st;
    *v = le(c->data + c->pos, n);
    c->pos += (size_t)n;
    return GI_OK;
}

static gi_status read_u32(cursor *c, uint32_t *v, const char *what) {
    uint64_t x;
    gi_status st = read_uint(c, 4, &x, what);
    if (st == GI_OK) *v = (uint32_t)x;
    return st;
}

static gi_status read_str(cursor *c, uint64_t max_len, gi_gguf_str *s,
                          const char *what) {
    uint64_t len;
    gi_status st = read_uint(c, 8, &len, what);
    if (st != GI_OK) return st;
    if (len > max_len)
        return gi_fail(GI_E_BAD_MODEL,
                       "%s: string length %" PRIu64 " exceeds the limit of %" PRIu64,
                       what, len, max_len);
    if ((st = need(c, len, what)) != GI_OK) return st;
    s->ptr = (const char *)c->data + c->pos;
    s->len = len;
    c->pos += (size_t)len;
    return GI_OK;
}

const char *gi_gguf_type_name(uint32_t type) {
    static const char *const names[] = {"u8",  "i8",   "u16",    "i16",  "u32",
                                        "i32", "f32",  "bool",   "string",
                                        "array", "u64", "i64",   "f64"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

static int scalar_size(uint32_t type) {
    switch (type) {
    case GI_GGUF_U8: case GI_GGUF_I8: case GI_GGUF_BOOL: return 1;
    case GI_GGUF_U16: case GI_GGUF_I16: return 2;
    case GI_GGUF_U32: case GI_GGUF_I32: case GI_GGUF_F32: return 4;
    case GI_GGUF_U64: case GI_GGUF_I64: case GI_GGUF_F64: return 8;
    default: return 0;
    }
}

static int64_t sign_extend(uint64_t v, int bytes) {
    if (bytes == 8) return v <= INT64_MAX ? (int64_t)v : -(int64_t)~v - 1;
    /* v < 2^(8*bytes): flip and subtract the sign bit, no implementation-
     * defined shifts or conversions */
    uint64_t m = UINT64_C(1) << (8 * bytes - 1);
    return (int64_t)(v ^ m) - (int64_t)m;
}

/* Read one scalar of `type` into kv->num; checks bools are 0 or 1. */
static gi_status read_scalar(cursor *c, uint32_t type, gi_gguf_kv *kv,
                             const char *what) {
    int n = scalar_size(type);
    uint64_t v;
    gi_status st = read_uint(c, n, &v, what);
    if (st != GI_OK) return st;
    switch (type) {
    case GI_GGUF_BOOL:
        if (v > 1)
            return gi_fail(GI_E_BAD_MODEL, "%s: bool value is %" PRIu64
                           " (must be 0 or 1)", what, v);
        kv->num.u = v;
        break;
    case GI_GGUF_I8: case GI_GGUF_I16: case GI_GGUF_I32: case GI_GGUF_I64:
        kv->num.i = sign_extend(v, n);
        break;
    case GI_GGUF_F32: {
        uint32_t b = (uint32_t)v;
        float f;
        memcpy(&f, &b, sizeof f);
        kv->num.f = f;
        break;
    }
    case GI_GGUF_F64:
        memcpy(&kv->num.f, &v, sizeof kv->num.f);
        break;
    default:
        kv->num.u = v;
    }
    return GI_OK;
}

static gi_status read_value(cursor *c, gi_gguf_kv *kv, const char *what) {
    gi_status st;
    if (kv->type == GI_GGUF_STRING)
        return read_str(c, GI_GGUF_MAX_STRING_LEN, &kv->str, what);
    if (kv->type != GI_GGUF_ARRAY) return read_scalar(c, kv->type, kv, what);

    if ((st = read_u32(c, &kv->arr_type, what)) != GI_OK) return st;
    if ((st = read_uint(c, 8, &kv->arr_count, what)) != GI_OK) return st;
    if (kv->arr_type == GI_GGUF_ARRAY)
        return gi_fail(GI_E_BAD_MODEL, "%s: nested arrays are not supported",
                       what);
    if (kv->arr_type == GI_GGUF_STRING) {
        /* Each element is at least its 8-byte length: reject absurd counts
         * before looping over them. */
        if (kv->arr_count > (c->size - c->pos) / 8)
            return gi_fail(GI_E_BAD_MODEL,
                           "truncated file: %s: array of %" PRIu64
                           " strings at offset %zu cannot fit in %zu bytes",
                           what, kv->arr_count, c->pos, c->size - c->pos);
        for (uint64_t i = 0; i < kv->arr_count; i++) {
            gi_gguf_str s;
            if ((st = read_str(c, GI_GGUF_MAX_STRING_LEN, &s, what)) != GI_OK)
                return st;
        }
        return GI_OK;
    }
    int n = scalar_size(kv->arr_type);
    if (n == 0)
        return gi_fail(GI_E_BAD_MODEL, "%s: unknown array element type %" PRIu32,
                       what, kv->arr_type);
    if (kv->arr_count > (c->size - c->pos) / (uint64_t)n)
        return gi_fail(GI_E_BAD_MODEL,
                       "truncated file: %s: array of %" PRIu64 " %s at offset %zu"
                       " cannot fit in %zu bytes",
                       what, kv->arr_count, gi_gguf_type_name(kv->arr_type),
                       c->pos, c->size - c->pos);
    if (kv->arr_type == GI_GGUF_BOOL) {
        for (uint64_t i = 0; i < kv->arr_count; i++)
            if (c->data[c->pos + i] > 1)
                return gi_fail(GI_E_BAD_MODEL,
                               "%s: bool array element %" PRIu64 " is %u"
                               " (must be 0 or 1)",
                               what, i, c->data[c->pos + i]);
    }
    c->pos += (size_t)(kv->arr_count * (uint64_t)n);
    return GI_OK;
}

char *gi_gguf_printable(gi_gguf_str s, char *buf, size_t n) {
    size_t cap = n - 1, len = s.len < cap ? (size_t)s.len : cap;
    int cut = s.len > cap;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        buf[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (cut && cap >= 3) memcpy(buf + cap - 3, "...", 3);
    buf[len] = '\0';
    return buf;
}

int gi_gguf_str_eq(gi_gguf_str s, const char *z) {
    size_t n = strlen(z);
    return s.len == n && memcmp(s.ptr, z, n) == 0;
}

static int str_cmp(gi_gguf_str a, gi_gguf_str b) {
    size_t n = a.len < b.len ? (size_t)a.len : (size_t)b.len;
    int r = memcmp(a.ptr, b.ptr, n);
    if (r != 0) return r;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int cmp_kv(const void *a, const void *b) {
    return str_cmp((*(const gi_gguf_kv *const *)a)->key,
                   (*(const gi_gguf_kv *const *)b)->key);
}

static int cmp_tensor_name(const void *a, const void *b) {
    return str_cmp((*(const gi_gguf_tensor *const *)a)->name,
                   (*(const gi_gguf_tensor *const *)b)->name);
}

/* By offset, ties by position in the file, so messages are deterministic. */
static int cmp_tensor_offset(const void *a, const void *b) {
    const gi_gguf_tensor *x = *(const gi_gguf_tensor *const *)a;
    const gi_gguf_tensor *y = *(const gi_gguf_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x < y ? -1 : x > y;
}

const gi_gguf_kv *gi_gguf_find(const gi_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (gi_gguf_str_eq(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

static gi_status parse_kvs(cursor *c, gi_gguf *g) {
    what_buf what;
    char name[80];
    for (uint64_t i = 0; i < g->n_kv; i++) {
        gi_gguf_kv *kv = &g->kv[i];
        gi_status st;
        snprintf(what, sizeof what, "key #%" PRIu64, i);
        if ((st = read_str(c, GI_GGUF_MAX_KEY_LEN, &kv->key, what)) != GI_OK)
            return st;
        if (kv->key.len == 0)
            return gi_fail(GI_E_BAD_MODEL, "key #%" PRIu64 " is empty", i);
        snprintf(what, sizeof what, "key '%s'",
                 gi_gguf_printable(kv->key, name, sizeof name));
        if ((st = read_u32(c, &kv->type, what)) != GI_OK) return st;
        if (kv->type > GI_GGUF_F64)
            return gi_fail(GI_E_BAD_MODEL, "%s has unknown value type %" PRIu32,
                           what, kv->type);
        if ((st = read_value(c, kv, what)) != GI_OK) return st;
    }
    return GI_OK;
}

static gi_status parse_tensor_info(cursor *c, uint64_t i, gi_gguf_tensor *t) {
    what_buf what;
    char name[80];
    gi_status st;
    snprintf(what, sizeof what, "tensor info #%" PRIu64, i);
    if ((st = read_str(c, GI_GGUF_MAX_NAME_LEN, &t->name, what)) != GI_OK)
        return st;
    if (t->name.len == 0)
        return gi_fail(GI_E_BAD_MODEL, "tensor #%" PRIu64 " has an empty name", i);
    snprintf(what, sizeof what, "tensor '%s'",
             gi_gguf_printable(t->name, name, sizeof name));
    if ((st = read_u32(c, &t->n_dims, what)) != GI_OK) return st;
    if (t->n_dims < 1 || t->n_dims > GI_GGUF_MAX_DIMS)
        return gi_fail(GI_E_BAD_MODEL, "%s has %" PRIu32 " dimensions (1 to %d"
                       " supported)", what, t->n_dims, GI_GGUF_MAX_DIMS);
    t->n_elems = 1;
    for (uint32_t d = 0; d < GI_GGUF_MAX_DIMS; d++) {
        t->dims[d] = 1;
        if (d >= t->n_dims) continue;
        if ((st = read_uint(c, 8, &t->dims[d], what)) != GI_OK) return st;
        if (t->dims[d] == 0)
            return gi_fail(GI_E_BAD_MODEL, "%s has a dimension of size 0", what);
        if (t->n_elems > UINT64_MAX / t->dims[d])
            return gi_fail(GI_E_BAD_MODEL,
                           "%s has too many elements (the dimension product "
                           "overflows)", what);
        t->n_elems *= t->dims[d];
    }
    if ((st = read_u32(c, &t->type, what)) != GI_OK) return st;
    uint64_t esize;
    if (t->type == GI_GGUF_TENSOR_F32)
        esize = 4;
    else if (t->type == GI_GGUF_TENSOR_F16)
        esize = 2;
    else
        return gi_fail(GI_E_BAD_MODEL, "%s has unsupported tensor type %" PRIu32
                       " (only 0 = F32 and 1 = F16 are accepted)", what, t->type);
    if (t->n_elems > c->size / esize)
        return gi_fail(GI_E_BAD_MODEL, "%s data (%" PRIu64 " %s elements) runs "
                       "past the end of the file (%zu bytes)", what, t->n_elems,
                       esize == 4 ? "F32" : "F16", c->size);
    t->n_bytes = t->n_elems * esize;
    return read_uint(c, 8, &t->offset, what);
}

/* Place the tensors in the data section: aligned, inside the file, and
 * disjoint. */
static gi_status place_tensors(const cursor *c, gi_gguf *g) {
    char name[80], other[80];
    if (g->n_tensors == 0) return GI_OK;
    uint64_t pad = (g->alignment - c->pos % g->alignment) % g->alignment;
    if (pad > c->size - c->pos)
        return gi_fail(GI_E_BAD_MODEL,
                       "truncated file: the tensor data section would start at "
                       "offset %" PRIu64 ", past the end of the file (%zu bytes)",
                       (uint64_t)c->pos + pad, c->size);
    g->data_offset = c->pos + pad;
    /* In bounds and pairwise disjoint (checked below) also bounds the sum of
     * the tensor sizes by the file size. */
    uint64_t avail = c->size - g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gi_gguf_tensor *t = &g->tensors[i];
        gi_gguf_printable(t->name, name, sizeof name);
        if (t->offset % g->alignment != 0)
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s' has offset %" PRIu64
                           ", not a multiple of the alignment %" PRIu64,
                           name, t->offset, g->alignment);
        if (t->offset > avail || t->n_bytes > avail - t->offset)
            return gi_fail(GI_E_BAD_MODEL, "tensor '%s' data (%" PRIu64 " bytes at "
                           "offset %" PRIu64 ") runs past the end of the file "
                           "(data section of %" PRIu64 " bytes)",
                           name, t->n_bytes, t->offset, avail);
        t->data = c->data + g->data_offset + t->offset;
    }
    gi_gguf_tensor **by_off = gi_malloc(g->n_tensors * sizeof *by_off);
    if (!by_off) return gi_fail(GI_E_NOMEM, "out of memory sorting tensors");
    for (uint64_t i = 0; i < g->n_tensors; i++) by_off[i] = &g->tensors[i];
    qsort(by_off, g->n_tensors, sizeof *by_off, cmp_tensor_offset);
    gi_status st = GI_OK;
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        const gi_gguf_tensor *a = by_off[i - 1], *b = by_off[i];
        if (a->offset + a->n_bytes > b->offset) {
            st = gi_fail(GI_E_BAD_MODEL, "tensors '%s' and '%s' overlap in the "
                         "data section (offsets %" PRIu64 " and %" PRIu64 ")",
                         gi_gguf_printable(a->name, name, sizeof name),
                         gi_gguf_printable(b->name, other, sizeof other),
                         a->offset, b->offset);
            break;
        }
    }
    free(by_off);
    return st;
}

/* Sort pointers to find equal neighbours: O(n log n) even for the maximum
 * counts. */
static gi_status check_duplicates(gi_gguf *g) {
    char name[80];
    uint64_t n = g->n_kv > g->n_tensors ? g->n_kv : g->n_tensors;
    if (n < 2) return GI_OK;
    void **p = gi_malloc(n * sizeof *p);
    if (!p) return gi_fail(GI_E_NOMEM, "out of memory checking duplicates");
    gi_status st = GI_OK;
    for (uint64_t i = 0; i < g->n_kv; i++) p[i] = &g->kv[i];
    qsort(p, g->n_kv, sizeof *p, cmp_kv);
    for (uint64_t i = 1; i < g->n_kv && st == GI_OK; i++) {
        const gi_gguf_kv *a = p[i - 1], *b = p[i];
        if (str_cmp(a->key, b->key) == 0)
            st = gi_fail(GI_E_BAD_MODEL, "duplicate key '%s'",
                         gi_gguf_printable(a->key, name, sizeof name));
    }
    for (uint64_t i = 0; i < g->n_tensors && st == GI_OK; i++) p[i] = &g->tensors[i];
    if (st == GI_OK) qsort(p, g->n_tensors, sizeof *p, cmp_tensor_name);
    for (uint64_t i = 1; i < g->n_tensors && st == GI_OK; i++) {
        const gi_gguf_tensor *a = p[i - 1], *b = p[i];
        if (str_cmp(a->name, b->name) == 0)
            st = gi_fail(GI_E_BAD_MODEL, "duplicate tensor '%s'",
                         gi_gguf_printable(a->name, name, sizeof name));
    }
    free(p);
    return st;
}

static gi_status read_alignment(gi_gguf *g) {
    const gi_gguf_kv *kv = gi_gguf_find(g, "general.alignment");
    g->alignment = GI_GGUF_DEFAULT_ALIGNMENT;
    if (!kv) return GI_OK;
    if (kv->type != GI_GGUF_U32)
        return gi_fail(GI_E_BAD_MODEL, "key 'general.alignment' has type %s, "
                       "expected u32", gi_gguf_type_name(kv->type));
    uint64_t a = kv->num.u;
    if (a < 8 || (a & (a - 1)) != 0)
        return gi_fail(GI_E_BAD_MODEL, "general.alignment is %" PRIu64
                       ", must be a power of two >= 8", a);
    g->alignment = a;
    return GI_OK;
}

gi_status gi_gguf_parse(const uint8_t *data, size_t size, gi_gguf *out) {
    cursor c = {data, size, 0};
    gi_gguf g;
    memset(&g, 0, sizeof g);
    memset(out, 0, sizeof *out);
    gi_status st;
    uint32_t version;

    if (size < 4 || memcmp(data, "GGUF", 4) != 0) {
        char magic[8];
        gi_gguf_str s = {(const char *)data, size < 4 ? size : 4};
        return gi_fail(GI_E_BAD_MODEL, "not a GGUF file: bad magic '%s' "
                       "(expected 'GGUF')", gi_gguf_printable(s, magic, sizeof magic));
    }
    c.pos = 4;
    if ((st = read_u32(&c, &version, "header")) != GI_OK) return st;
    if (version != 3)
        return gi_fail(GI_E_BAD_MODEL, "GGUF version %" PRIu32 " is not supported"
                       " (only version 3)", version);
    if ((st = read_uint(&c, 8, &g.n_tensors, "header")) != GI_OK ||
        (st = read_uint(&c, 8, &g.n_kv, "header")) != GI_OK)
        return st;
    if (g.n_tensors > GI_GGUF_MAX_TENSORS)
        return gi_fail(GI_E_BAD_MODEL, "tensor_count %" PRIu64 " exceeds the "
                       "limit of %d", g.n_tensors, GI_GGUF_MAX_TENSORS);
    if (g.n_kv > GI_GGUF_MAX_KV)
        return gi_fail(GI_E_BAD_MODEL, "kv_count %" PRIu64 " exceeds the limit "
                       "of %d", g.n_kv, GI_GGUF_MAX_KV);
    /* Smallest entries: a kv has a key length, a 1-byte key, a type and a
     * 1-byte value (13 bytes); a tensor info has a name length, a 1-byte name,
     * n_dims, one dim, type and offset (33 bytes). */
    if (g.n_kv * 13 + g.n_tensors * 33 > size - c.pos)
        return gi_fail(GI_E_BAD_MODEL, "truncated file: %" PRIu64 " keys and %"
                       PRIu64 " tensors cannot fit in %zu bytes",
                       g.n_kv, g.n_tensors, size);

    g.kv = gi_calloc(g.n_kv ? g.n_kv : 1, sizeof *g.kv);
    g.tensors = gi_calloc(g.n_tensors ? g.n_tensors : 1, sizeof *g.tensors);
    if (!g.kv || !g.tensors) {
        gi_gguf_free(&g);
        return gi_fail(GI_E_NOMEM, "out of memory for the GGUF index");
    }
    if ((st = parse_kvs(&c, &g)) == GI_OK && (st = read_alignment(&g)) == GI_OK) {
        for (uint64_t i = 0; i < g.n_tensors && st == GI_OK; i++)
            st = parse_tensor_info(&c, i, &g.tensors[i]);
    }
    if (st == GI_OK) st = check_duplicates(&g);
    if (st == GI_OK) st = place_tensors(&c, &g);
    if (st != GI_OK) {
        gi_gguf_free(&g);
        return st;
    }
    *out = g;
    return GI_OK;
}

void gi_gguf_free(gi_gguf *g) {
    free(g->kv);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

float gi_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13; /* inf, or NaN keeping payload */
    } else if (exp != 0) {
        bits = sign | (exp + 112) << 23 | mant << 13; /* rebias 15 -> 127 */
    } else {
        /* zero or subnormal: mant * 2^-24 is exact in binary32 */
        float f = (float)mant * 0x1p-24f;
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int finite_bits(uint32_t bits) { return (bits & 0x7f800000u) != 0x7f800000u; }

uint64_t gi_gguf_tensor_to_f32(const gi_gguf_tensor *t, float *dst, int *is_nan) {
    const uint8_t *p = t->data;
    if (t->type == GI_GGUF_TENSOR_F16) {
        for (uint64_t i = 0; i < t->n_elems; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            if ((h & 0x7c00u) == 0x7c00u) {
                *is_nan = (h & 0x3ffu) != 0;
                return i;
            }
            dst[i] = gi_half_to_float(h);
        }
    } else {
        for (uint64_t i = 0; i < t->n_elems; i++) {
            uint32_t bits = (uint32_t)le(p + 4 * i, 4);
            if (!finite_bits(bits)) {
                *is_nan = (bits & 0x7fffffu) != 0;
                return i;
            }
            memcpy(&dst[i], &bits, sizeof bits);
        }
    }
    return t->n_elems;
}

gi_status gi_gguf_find_key(const gi_gguf *g, const char *key, uint32_t type, int required,
                           const gi_gguf_kv **out) {
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

gi_status gi_gguf_get_u32(const gi_gguf *g, const char *key, uint64_t *out) {
    const gi_gguf_kv *kv;
    gi_status st = gi_gguf_find_key(g, key, GI_GGUF_U32, 1, &kv);
    if (st == GI_OK) *out = kv->num.u;
    return st;
}

void gi_gguf_shape_str(const uint64_t *d, uint32_t n, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = n; i-- > 0 && len < size;) {
        int w = snprintf(buf + len, size - len, "%s%" PRIu64, i + 1 == n ? "" : "x", d[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
}
