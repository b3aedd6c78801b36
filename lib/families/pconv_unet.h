/* The PConv U-Net family (docs/ENGINE.md, "Partial convolutions"): the
 * partial-convolution U-Net of Liu et al. 2018, "Image Inpainting for
 * Irregular Holes Using Partial Convolutions", with the numerics of the
 * public PyTorch reimplementation naoto0804/pytorch-inpainting-with-partial-conv
 * (net.py): masks 1 = known, out = W.(X*M) / sum(M) + b with sum(M) over the
 * window and every input channel, 0 where sum(M) = 0 (before BatchNorm),
 * new mask = any valid input. */
#ifndef GI_PCONV_UNET_H
#define GI_PCONV_UNET_H

#include <stdint.h>

#include "../graph/packed.h"
#include "family.h"

extern const gi_family gi_family_pconv_unet;

/* gatedinpaint.pconv.layer_size: encoder depth (net.py's layer_size, 7 in
 * its training script); the network halves the size that many times. */
#define GI_PC_MIN_DEPTH 4
#define GI_PC_MAX_DEPTH 9
#define GI_PC_MAX_LAYERS (2 * GI_PC_MAX_DEPTH)

typedef struct gi_pc_layer {
    char name[8];       /* "enc_3", "dec_1" */
    int32_t cin, cout;  /* input channels (decoder: upsampled + skip) */
    int32_t cin_up;     /* decoder: channels of the upsampled source */
    int32_t k, stride;  /* torch padding k/2 */
    int32_t bn;         /* BatchNorm (eval) after the convolution */
    int32_t act;        /* GI_ACT_RELU, GI_ACT_LEAKY_RELU or GI_ACT_NONE */
} gi_pc_layer;

typedef struct gi_pconv_unet {
    int32_t width;  /* channels of enc_1 (64 in net.py) */
    int32_t depth;  /* layer_size */
    int32_t bgr;    /* gatedinpaint.channel_order */
    float bn_eps;
    int32_t nlayers; /* 2 * depth, in run order: enc_1 .. enc_L, dec_L .. dec_1 */
    gi_pc_layer layers[GI_PC_MAX_LAYERS];
    /* BatchNorm folded in: W' = s W, b' = (b - mean) s + beta with
     * s = gamma / sqrt(var + eps), so out = W'.(X*M) / sum(M) + b'. */
    gi_conv_weights convs[GI_PC_MAX_LAYERS];
    float *storage;
    gi_packed_cache packed;
    int packed_ready;
} gi_pconv_unet;

/* The layer table for a width and depth; -1 if they are out of range. */
int gi_pconv_layer_specs(int32_t width, int32_t depth, gi_pc_layer out[GI_PC_MAX_LAYERS]);

gi_status gi_pconv_read_metadata(const gi_gguf *g, gi_family_info *info, void **state);
gi_status gi_pconv_load_tensors(const gi_gguf *g, void *state, int64_t *param_count);
void gi_pconv_destroy(void *state);

#endif
