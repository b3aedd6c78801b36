/* A GGUF writer for tests: builds valid tiny DeepFill v2 and PConv models with
 * deterministic weights, and lets a test change any field (counts, types,
 * offsets, dims, raw value bytes) before serializing, to produce malformed
 * files on purpose. Test code: it aborts on out-of-memory. */
#ifndef GI_TEST_GGUF_BUILDER_H
#define GI_TEST_GGUF_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define TB_MAX_KV 64
#define TB_MAX_TENSORS 128
#define TB_MAX_VALUE 512

typedef struct tb_kv {
    char key[300];
    uint32_t type;
    uint8_t value[TB_MAX_VALUE]; /* the serialized value after the type */
    size_t value_len;
} tb_kv;

typedef struct tb_tensor {
    char name[300];
    uint32_t n_dims; /* may be 0..5 on purpose; dims[n_dims] are written */
    uint64_t dims[5];
    uint32_t type;          /* 0 F32, 1 F16, anything else on purpose */
    int64_t offset;         /* -1: the builder's aligned layout */
    uint32_t seed;          /* values are tb_value(seed, i) */
    int64_t poison_index;   /* >= 0: element replaced by poison_bits */
    uint32_t poison_bits;   /* raw F32 or F16 bits (NaN, Inf) */
    int nonneg;             /* values are |tb_value| (BatchNorm variances) */
} tb_tensor;

typedef struct tb_file {
    char magic[4];
    uint32_t version;
    int64_t tensor_count; /* -1: the real count */
    int64_t kv_count;     /* -1: the real count */
    uint64_t alignment;   /* for the layout; general.alignment is a key */
    tb_kv kv[TB_MAX_KV];
    int n_kv;
    tb_tensor t[TB_MAX_TENSORS];
    int n_tensors;
} tb_file;

/* An empty, valid GGUF v3 file (no keys, no tensors, alignment 32). */
tb_file *tb_new(void);
void tb_free(tb_file *f);

/* A complete valid model: every key of docs/MODEL_FORMAT.md, a few ignored
 * extra keys (including arrays) and the 84 tensors for this width and guide
 * count, all of tensor type `type` (0 F32, 1 F16; 2 alternates F32/F16). */
tb_file *tb_model(int width, int guide, uint32_t type);

/* A complete valid PConv U-Net model (family pconv_unet) for this width and
 * depth (layer_size); conv biases on every layer or only on dec_1. */
tb_file *tb_pconv_model(int width, int depth, uint32_t type, int all_biases);

/* Set (replace or append) a key. */
void tb_set_raw(tb_file *f, const char *key, uint32_t type, const void *value,
                size_t len);
void tb_set_u32(tb_file *f, const char *key, uint32_t v);
void tb_set_bool(tb_file *f, const char *key, int v);
void tb_set_f32(tb_file *f, const char *key, float v);
void tb_set_str(tb_file *f, const char *key, const char *s);
/* Append even if the key exists (for duplicates). */
void tb_add_raw(tb_file *f, const char *key, uint32_t type, const void *value,
                size_t len);
/* Remove a key; returns 0 if it was not there. */
int tb_remove_kv(tb_file *f, const char *key);

tb_tensor *tb_find_tensor(tb_file *f, const char *name);
tb_tensor *tb_add_tensor(tb_file *f, const char *name, uint32_t n_dims,
                         const uint64_t *dims, uint32_t type);
int tb_remove_tensor(tb_file *f, const char *name);

/* Serialize to a new malloc'd buffer. *data_start (may be NULL) receives the
 * file offset of the tensor data section. */
uint8_t *tb_serialize(const tb_file *f, size_t *size, size_t *data_start);

/* Deterministic element value: multiples of 1/1024 in (-1, 1) and a few
 * multiples of 2^-24 (binary16 subnormals), all exact in F16 and F32. */
float tb_value(uint32_t seed, uint64_t i);
/* Exact binary16 encoding of a value that binary16 represents exactly. */
uint16_t tb_float_to_half(float f);

#endif
