/* Per-ISA packed convolution weights of a network, built once on first use
 * and shared by every session of the model that owns the cache. */
#ifndef GI_PACKED_H
#define GI_PACKED_H

#include <pthread.h>

#include "../cpu/dispatch.h"
#include "../kernels/kernels.h"
#include "gatedinpaint.h"

/* One convolution's weights as stored in the model (OIHW + bias). */
typedef struct gi_conv_weights {
    const float *weight; /* cconv x cin x k x k */
    const float *bias;   /* cconv */
    int32_t cconv, cin, k;
} gi_conv_weights;

/* The packed form of n layers for one kernel table. */
typedef struct gi_packed {
    float *data;
    int32_t n;
    const float *layer[]; /* n entries, each 64-byte aligned in data */
} gi_packed;

typedef struct gi_packed_cache {
    pthread_mutex_t lock;
    gi_packed *slot[GI_KERNEL_TABLES];
    int32_t n;
    const gi_conv_weights *convs; /* n layers, owned by the model */
} gi_packed_cache;

/* Set up an empty cache over `convs` (which must outlive it). */
gi_status gi_packed_cache_init(gi_packed_cache *c, const gi_conv_weights *convs, int32_t n);
/* Free every packed copy and the lock. */
void gi_packed_cache_destroy(gi_packed_cache *c);

/* The layers packed for kernel table `k` (built on first call, thread-safe).
 * NULL with an error set when memory runs out. */
const gi_packed *gi_packed_get(gi_packed_cache *c, const gi_kernels *k);

#endif
