/* The model object behind the opaque gi_model handle: the metadata every
 * family shares, the family that runs it and that family's state (weights,
 * packed caches), which the model owns. Immutable after load apart from
 * what the family builds lazily under its own locks. */
#ifndef GI_MODEL_H
#define GI_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../families/family.h"
#include "gatedinpaint.h"

struct gi_model {
    atomic_int refs;

    /* metadata (owned, NUL-terminated, never NULL) */
    char *name, *license, *source_url, *family_name, *channel_order;
    gi_family_info info;
    int32_t working_size; /* gatedinpaint.working_size: GI_STRATEGY_REGIONS' scale */

    const gi_family *family;
    void *state; /* the family's, freed by family->destroy */
};

/* Parse and validate a GGUF image; on success *out has one reference. */
gi_status gi_model_from_gguf(const uint8_t *data, size_t size, gi_model **out);

#endif
