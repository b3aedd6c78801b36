/* Bounds-checked GGUF v3 reader over a memory image (docs/MODEL_FORMAT.md).
 * It knows the container only; what the keys and tensors must be for a
 * model is checked by model.c. The parsed structure points into the
 * caller's buffer, which must outlive it. */
#ifndef GI_GGUF_H
#define GI_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "gatedinpaint.h"

/* Value types of the key/value section. */
enum {
    GI_GGUF_U8 = 0, GI_GGUF_I8 = 1, GI_GGUF_U16 = 2, GI_GGUF_I16 = 3,
    GI_GGUF_U32 = 4, GI_GGUF_I32 = 5, GI_GGUF_F32 = 6, GI_GGUF_BOOL = 7,
    GI_GGUF_STRING = 8, GI_GGUF_ARRAY = 9, GI_GGUF_U64 = 10, GI_GGUF_I64 = 11,
    GI_GGUF_F64 = 12
};

/* Tensor element types accepted (ggml numbering). */
enum { GI_GGUF_TENSOR_F32 = 0, GI_GGUF_TENSOR_F16 = 1 };

/* Limits that keep a hostile header from making the reader allocate or loop
 * far beyond what any real model needs. */
#define GI_GGUF_MAX_DIMS 4
#define GI_GGUF_MAX_KV 4096
#define GI_GGUF_MAX_TENSORS 4096
#define GI_GGUF_MAX_KEY_LEN 65535u     /* the GGUF spec's own key limit */
#define GI_GGUF_MAX_NAME_LEN 255u      /* tensor names */
#define GI_GGUF_MAX_STRING_LEN (16u << 20)
#define GI_GGUF_DEFAULT_ALIGNMENT 32u

/* A string inside the file: not NUL-terminated, may hold any bytes. */
typedef struct gi_gguf_str {
    const char *ptr;
    uint64_t len;
} gi_gguf_str;

typedef struct gi_gguf_kv {
    gi_gguf_str key;
    uint32_t type;
    union {
        uint64_t u; /* U8, U16, U32, U64, BOOL */
        int64_t i;  /* I8, I16, I32, I64 */
        double f;   /* F32, F64 */
    } num;
    gi_gguf_str str;    /* STRING */
    uint32_t arr_type;  /* ARRAY: element type (elements validated, not kept) */
    uint64_t arr_count; /* ARRAY: element count */
} gi_gguf_kv;

typedef struct gi_gguf_tensor {
    gi_gguf_str name;
    uint32_t n_dims;
    uint64_t dims[GI_GGUF_MAX_DIMS]; /* dims[0] varies fastest; unused = 1 */
    uint32_t type;                   /* GI_GGUF_TENSOR_* */
    uint64_t offset;                 /* from the start of the data section */
    uint64_t n_elems, n_bytes;
    const uint8_t *data; /* little-endian elements, possibly unaligned */
} gi_gguf_tensor;

typedef struct gi_gguf {
    gi_gguf_kv *kv;
    uint64_t n_kv;
    gi_gguf_tensor *tensors;
    uint64_t n_tensors;
    uint64_t alignment;
    uint64_t data_offset; /* start of the data section in the file */
} gi_gguf;

/* Parse and check the container: every length, count, offset, alignment,
 * duplicate and overlap. On failure returns GI_E_BAD_MODEL (or GI_E_NOMEM)
 * with a message and leaves *out empty; release with gi_gguf_free(). */
gi_status gi_gguf_parse(const uint8_t *data, size_t size, gi_gguf *out);
void gi_gguf_free(gi_gguf *g);

/* The key/value with this key, or NULL. */
const gi_gguf_kv *gi_gguf_find(const gi_gguf *g, const char *key);
/* 1 if s holds exactly the bytes of the C string z. */
int gi_gguf_str_eq(gi_gguf_str s, const char *z);
/* "u32", "string", ... for messages. */
const char *gi_gguf_type_name(uint32_t type);
/* Copy s into buf (size n >= 1) as printable ASCII for messages: other
 * bytes become '?', long strings are cut with "...". Returns buf. */
char *gi_gguf_printable(gi_gguf_str s, char *buf, size_t n);

/* Convert a tensor's elements to float32 into dst (n_elems floats). Returns
 * n_elems if all are finite, else the index of the first NaN or Inf, with
 * *is_nan telling which (the rest of dst is then unspecified). */
uint64_t gi_gguf_tensor_to_f32(const gi_gguf_tensor *t, float *dst, int *is_nan);

/* The key of this type: a missing required key or a wrong type is an error
 * (GI_E_BAD_MODEL with a message); a missing optional key gives *out NULL. */
gi_status gi_gguf_find_key(const gi_gguf *g, const char *key, uint32_t type, int required,
                           const gi_gguf_kv **out);
/* A required u32 key. */
gi_status gi_gguf_get_u32(const gi_gguf *g, const char *key, uint64_t *out);
/* "24x5x5x5": ggml dims printed outermost first, i.e. as the PyTorch shape. */
void gi_gguf_shape_str(const uint64_t *d, uint32_t n, char *buf, size_t size);

/* IEEE 754 binary16 to binary32, exact for every input (subnormals,
 * infinities, NaNs with their payload). */
float gi_half_to_float(uint16_t h);

#endif
