/* The DeepFill v2 family (docs/DEEPFILL_V2.md): the official generator,
 * coarse stage then refinement with a contextual-attention branch, every
 * layer a gated convolution; plus this project's optional hole pre-fill and
 * residual stages (docs/MODEL_FORMAT.md). */
#ifndef GI_DEEPFILL_V2_H
#define GI_DEEPFILL_V2_H

#include <stddef.h>
#include <stdint.h>

#include "../graph/packed.h"
#include "family.h"

extern const gi_family gi_family_deepfill_v2;

/* Layer indices GI_DF_conv1 ... GI_DF_allconv17, in the order of
 * deepfill_v2_layers.def (the one table of the architecture). */
enum {
#define LAYER(name, cin_q, cconv_q, k, stride, dil, act, up) GI_DF_##name,
#include "deepfill_v2_layers.def"
#undef LAYER
    GI_DF_NUM_LAYERS
};

typedef struct gi_layer_spec {
    const char *name;  /* checkpoint name, e.g. "conv13_upsample" */
    int32_t cin;       /* input channels seen by the convolution */
    int32_t cconv;     /* convolution output channels (stored in the file) */
    int32_t cout;      /* channels after gating (cconv/2, or cconv if ungated) */
    int32_t k, stride, dilation;
    int32_t act;       /* GI_ACT_* from gatedinpaint.h */
    int32_t upsample;  /* 1: nearest x2 upsampling before the convolution */
} gi_layer_spec;

/* 1: the official network (holes enter stage 1 as 0). 2: the same network
 * plus the gatedinpaint.input_fill and gatedinpaint.residual keys (holes may
 * enter pre-filled; each stage may add its output to its input image); a
 * library that only knows 1 thus refuses models it would run wrongly. */
#define GI_DF_ARCH_VERSION 1
#define GI_DF_ARCH_VERSION_MAX 2

#define GI_FILL_ZEROS 0           /* official: hole colour 0 */
#define GI_FILL_PUSHPULL 1        /* lib/graph/fill.h */
#define GI_FILL_GUIDED_PUSHPULL 2 /* the same, not across guide lines */
#define GI_FILL_RING_WARP 3       /* the same, outlines moved to the guide's lines */
#define GI_FILL_COUNT 4
/* The guided fills read the guide plane of the network input. */
#define GI_FILL_READS_GUIDE(fill) \
    ((fill) == GI_FILL_GUIDED_PUSHPULL || (fill) == GI_FILL_RING_WARP)

/* The state of a loaded DeepFill v2 model. */
typedef struct gi_deepfill {
    int32_t width;          /* cnum */
    int32_t guide_channels; /* 0 or 1 */
    int32_t bgr;            /* 1 if the network wants B,G,R channel order */
    int32_t fuse;           /* contextual attention score fusion */
    float softmax_scale;
    int32_t input_fill;     /* GI_FILL_* */
    int32_t residual;       /* 1: each stage adds its output to its input image */

    gi_layer_spec layers[GI_DF_NUM_LAYERS];
    gi_conv_weights convs[GI_DF_NUM_LAYERS]; /* into storage, OIHW */
    void *storage;                           /* single allocation of all weights */
    gi_packed_cache packed;                  /* set up by load_tensors */
    int packed_ready;
} gi_deepfill;

/* Fill `out` for width `cnum` (> 0, divisible by 4) and 0 or 1 guide
 * channels. Returns 0 on success, -1 if the parameters are not supported. */
int gi_deepfill_layer_specs(int32_t cnum, int32_t guide_channels,
                            gi_layer_spec out[GI_DF_NUM_LAYERS]);

/* The steps of a forward pass in the order they run and report progress:
 * the 42 convolutions with the contextual attention after pmconv6. */
#define GI_DF_NUM_STEPS (GI_DF_NUM_LAYERS + 1)

/* Multiply-adds and name of each step at network size h x w (multiples of
 * 8); returns GI_DF_NUM_STEPS. The attention counts its two GEMMs over all
 * patches (holes skipped in the paste are not subtracted). */
int gi_deepfill_steps(const gi_deepfill *df, int32_t h, int32_t w,
                      double macs[GI_DF_NUM_STEPS], const char *names[GI_DF_NUM_STEPS]);

/* gatedinpaint.input_fill's name for a GI_FILL_* value. */
const char *gi_deepfill_fill_name(int32_t fill);

/* Family hooks shared between deepfill_v2_load.c and deepfill_v2.c. */
gi_status gi_deepfill_read_metadata(const gi_gguf *g, gi_family_info *info, void **state);
gi_status gi_deepfill_load_tensors(const gi_gguf *g, void *state, int64_t *param_count);
void gi_deepfill_destroy(void *state);
gi_status gi_deepfill_property(const void *state, int32_t prop, int64_t *ival,
                               const char **sval);

#endif
