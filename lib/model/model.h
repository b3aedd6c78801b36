/* The model object behind the opaque gi_model handle: validated metadata
 * and float32 weights in the checkpoint's OIHW layout. Immutable after load
 * except for the lazily built per-ISA packed weights (guarded by pack_lock). */
#ifndef GI_MODEL_H
#define GI_MODEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../graph/deepfill_arch.h"
#include "gatedinpaint.h"

#define GI_PACK_SLOTS 4 /* one per kernel table (scalar, neon, avx2, avx512) */

struct gi_model {
    atomic_int refs;

    /* metadata (owned, NUL-terminated, never NULL) */
    char *name, *license, *source_url, *family, *channel_order;
    int32_t arch_version;
    int32_t width;          /* cnum */
    int32_t guide_channels; /* 0 or 1 */
    int32_t bgr;            /* 1 if the network wants B,G,R channel order */
    int32_t fuse;           /* contextual attention score fusion */
    float softmax_scale;
    int32_t input_fill;     /* GI_FILL_* */
    int32_t residual;       /* 1: each stage adds its output to its input image */
    int64_t param_count;

    gi_layer_spec layers[GI_DF_NUM_LAYERS];
    float *weight[GI_DF_NUM_LAYERS]; /* cconv x cin x k x k (OIHW) */
    float *bias[GI_DF_NUM_LAYERS];   /* cconv */
    void *storage;                   /* single allocation behind weight/bias */

    pthread_mutex_t pack_lock;
    void *packed[GI_PACK_SLOTS]; /* owned by lib/graph, see gi_graph_free_packed */
};

/* Parse and validate a GGUF image; on success *out has one reference. */
gi_status gi_model_from_gguf(const uint8_t *data, size_t size, gi_model **out);

/* Defined in lib/graph: frees model->packed[] (called on last release). */
void gi_graph_free_packed(gi_model *m);

#endif
