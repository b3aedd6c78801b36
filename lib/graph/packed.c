#include "packed.h"

#include <stdlib.h>

#include "../api/alloc.h"
#include "../api/error.h"
#include "../cpu/dispatch.h"

static gi_packed_model *build(const gi_model *m, const gi_kernels *k) {
    size_t total = 0, off[GI_DF_NUM_LAYERS];
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        const gi_layer_spec *l = &m->layers[i];
        off[i] = total;
        /* keep each layer 64-byte aligned */
        total += (k->conv_packed_size(l->cconv, l->cin, l->k) + 15) & ~(size_t)15;
    }
    gi_packed_model *p = gi_calloc(1, sizeof *p);
    float *data = gi_aligned_alloc(64, (total * sizeof(float) + 63) & ~(size_t)63);
    if (!p || !data) {
        free(p);
        free(data);
        return NULL;
    }
    p->data = data;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        const gi_layer_spec *l = &m->layers[i];
        k->conv_pack(m->weight[i], m->bias[i], l->cconv, l->cin, l->k, data + off[i]);
        p->layer[i] = data + off[i];
    }
    return p;
}

const gi_packed_model *gi_packed_get(gi_model *m, const gi_kernels *k) {
    int slot = gi_kernels_slot(k);
    pthread_mutex_lock(&m->pack_lock);
    if (!m->packed[slot]) m->packed[slot] = build(m, k);
    gi_packed_model *p = m->packed[slot];
    pthread_mutex_unlock(&m->pack_lock);
    if (!p) gi_fail(GI_E_NOMEM, "cannot allocate the packed weights (%s)", k->name);
    return p;
}

void gi_graph_free_packed(gi_model *m) {
    for (int i = 0; i < GI_PACK_SLOTS; i++) {
        gi_packed_model *p = m->packed[i];
        if (!p) continue;
        free(p->data);
        free(p);
        m->packed[i] = NULL;
    }
}
