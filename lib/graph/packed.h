/* Per-ISA packed weights of a model, built once on first use and shared by
 * every session of that model. */
#ifndef GI_PACKED_H
#define GI_PACKED_H

#include "../kernels/kernels.h"
#include "../model/model.h"

typedef struct gi_packed_model {
    float *data;
    const float *layer[GI_DF_NUM_LAYERS];
} gi_packed_model;

/* Packed weights of `m` for kernel table `k` (built on first call,
 * thread-safe). Returns NULL with an error set when memory runs out. */
const gi_packed_model *gi_packed_get(gi_model *m, const gi_kernels *k);

#endif
