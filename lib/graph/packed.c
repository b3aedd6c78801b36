#include "packed.h"

#include <stdlib.h>

#include "../common/alloc.h"
#include "../common/error.h"

static gi_packed *build(const gi_packed_cache *c, const gi_kernels *k) {
    size_t total = 0;
    for (int32_t i = 0; i < c->n; i++) {
        const gi_conv_weights *l = &c->convs[i];
        /* keep each layer 64-byte aligned */
        total += (k->conv_packed_size(l->cconv, l->cin, l->k) + 15) & ~(size_t)15;
    }
    gi_packed *p = gi_calloc(1, sizeof *p + (size_t)c->n * sizeof p->layer[0]);
    float *data = gi_aligned_alloc(64, (total * sizeof(float) + 63) & ~(size_t)63);
    if (!p || !data) {
        free(p);
        free(data);
        return NULL;
    }
    p->data = data;
    p->n = c->n;
    for (int32_t i = 0; i < c->n; i++) {
        const gi_conv_weights *l = &c->convs[i];
        k->conv_pack(l->weight, l->bias, l->cconv, l->cin, l->k, data);
        p->layer[i] = data;
        data += (k->conv_packed_size(l->cconv, l->cin, l->k) + 15) & ~(size_t)15;
    }
    return p;
}

gi_status gi_packed_cache_init(gi_packed_cache *c, const gi_conv_weights *convs, int32_t n) {
    for (int i = 0; i < GI_KERNEL_TABLES; i++) c->slot[i] = NULL;
    c->n = n;
    c->convs = convs;
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        return gi_fail(GI_E_NOMEM, "cannot create the weight-packing lock");
    return GI_OK;
}

void gi_packed_cache_destroy(gi_packed_cache *c) {
    for (int i = 0; i < GI_KERNEL_TABLES; i++) {
        gi_packed *p = c->slot[i];
        if (!p) continue;
        free(p->data);
        free(p);
        c->slot[i] = NULL;
    }
    pthread_mutex_destroy(&c->lock);
}

const gi_packed *gi_packed_get(gi_packed_cache *c, const gi_kernels *k) {
    int slot = gi_kernels_slot(k);
    pthread_mutex_lock(&c->lock);
    if (!c->slot[slot]) c->slot[slot] = build(c, k);
    gi_packed *p = c->slot[slot];
    pthread_mutex_unlock(&c->lock);
    if (!p) gi_fail(GI_E_NOMEM, "cannot allocate the packed weights (%s)", k->name);
    return p;
}
