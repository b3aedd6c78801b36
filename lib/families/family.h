/* Network families: one row of the table in family.c per architecture,
 * looked up from a model file's gatedinpaint.family. A family reads and
 * checks its own metadata and tensors, turns the runner's padded picture
 * into its network input, runs its forward pass and hands back colours.
 * Everything around that (files, padding, compositing, regions) is shared
 * and lives above (lib/model, lib/runner). docs/ARCHITECTURE.md: how to
 * add a family. */
#ifndef GI_FAMILY_H
#define GI_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/gguf.h"
#include "../graph/exec.h"
#include "gatedinpaint.h"

/* What a family tells the model about a file it accepted. */
typedef struct gi_family_info {
    int32_t arch_version;
    int32_t width;          /* base channel count (GI_MODEL_WIDTH) */
    int32_t guide_channels; /* 0 or 1: whether gi_inpaint takes a guide */
    int32_t pad_multiple;   /* network sides must be multiples of this */
    int32_t pad_is_hole;    /* 1: the padding is a hole (colour 0), not a reflection */
    int32_t aggregates;     /* 1: forward honours io->aux (gi_net_aux) */
    int64_t param_count;
} gi_family_info;

/* Contextual residual aggregation, asked for by the regions runner of a
 * family whose info says `aggregates` (one with an attention layer): it
 * pastes `src` (the high frequencies the shrinking lost, src_h x src_w x 3,
 * `scale` pixels for each network pixel) into the hole with its own
 * attention weights and writes the result to `dst` (same shape). The runner
 * neither computes nor allocates any of it for the other families. */
typedef struct gi_net_aux {
    const float *src;
    int32_t src_h, src_w, scale;
    float *dst;
} gi_net_aux;

/* The picture at network size, as the runner prepared it: padded to
 * multiples of pad_multiple (bottom/right, by reflection or, with
 * pad_is_hole, as hole). */
typedef struct gi_net_io {
    int32_t h, w;
    const uint8_t *rgb;  /* h*w*3, RGB */
    const uint8_t *hole; /* h*w, 1 = hole */
    const uint8_t *edge; /* h*w, 1 = a guide line is drawn here; NULL: no guide */
    /* Set by forward: h*w*3 RGB on the 0..255 scale, not yet rounded
     * (the runner rounds and clamps); only hole pixels are read. */
    const float *out;
    gi_net_aux *aux; /* NULL: none */
} gi_net_io;

typedef struct gi_family {
    const char *name; /* gatedinpaint.family */
    /* Check the family's metadata keys; on success *state is new (owned by
     * the model, freed with destroy) and info is filled but param_count. */
    gi_status (*read_metadata)(const gi_gguf *g, gi_family_info *info, void **state);
    /* Match the file's tensors to the architecture (nothing missing, nothing
     * extra, shapes exact, finite) and copy the weights into the state. */
    gi_status (*load_tensors)(const gi_gguf *g, void *state, int64_t *param_count);
    void (*destroy)(void *state);
    /* Bytes of arena forward needs at network size h x w, or an error if
     * that size cannot be run. */
    gi_status (*scratch)(const void *state, const gi_exec *ex, int32_t h, int32_t w,
                         size_t *bytes);
    /* Run on io (sets io->out, inside `scratch`). Reports progress through
     * ex and stops with GI_E_CANCELLED when asked. */
    gi_status (*forward)(void *state, gi_exec *ex, gi_net_io *io, void *scratch);
    /* A family-specific model property (GI_MODEL_INPUT_FILL, ...): sets
     * *sval or *ival and returns GI_OK, or GI_E_UNSUPPORTED. */
    gi_status (*property)(const void *state, int32_t prop, int64_t *ival, const char **sval);
} gi_family;

/* The family called `name`, or NULL. */
const gi_family *gi_family_find(gi_gguf_str name);

/* "'a', 'b'": the names of every family, for messages. */
void gi_family_list(char *buf, size_t size);

#endif
