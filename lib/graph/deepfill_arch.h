/* The DeepFill v2 generator's layer table: names, channel counts and
 * hyper-parameters as functions of the width (cnum) and guide channels.
 * This is the single description of the architecture: the model loader
 * validates files against it and the graph runs it. */
#ifndef GI_DEEPFILL_ARCH_H
#define GI_DEEPFILL_ARCH_H

#include <stdint.h>

/* Layer indices, in the order of deepfill_v2_reference.md section 2.3. */
enum {
    GI_DF_CONV1, GI_DF_CONV2_DOWNSAMPLE, GI_DF_CONV3, GI_DF_CONV4_DOWNSAMPLE,
    GI_DF_CONV5, GI_DF_CONV6, GI_DF_CONV7_ATROUS, GI_DF_CONV8_ATROUS,
    GI_DF_CONV9_ATROUS, GI_DF_CONV10_ATROUS, GI_DF_CONV11, GI_DF_CONV12,
    GI_DF_CONV13_UPSAMPLE, GI_DF_CONV14, GI_DF_CONV15_UPSAMPLE, GI_DF_CONV16,
    GI_DF_CONV17,
    GI_DF_XCONV1, GI_DF_XCONV2_DOWNSAMPLE, GI_DF_XCONV3, GI_DF_XCONV4_DOWNSAMPLE,
    GI_DF_XCONV5, GI_DF_XCONV6, GI_DF_XCONV7_ATROUS, GI_DF_XCONV8_ATROUS,
    GI_DF_XCONV9_ATROUS, GI_DF_XCONV10_ATROUS,
    GI_DF_PMCONV1, GI_DF_PMCONV2_DOWNSAMPLE, GI_DF_PMCONV3,
    GI_DF_PMCONV4_DOWNSAMPLE, GI_DF_PMCONV5, GI_DF_PMCONV6, GI_DF_PMCONV9,
    GI_DF_PMCONV10,
    GI_DF_ALLCONV11, GI_DF_ALLCONV12, GI_DF_ALLCONV13_UPSAMPLE, GI_DF_ALLCONV14,
    GI_DF_ALLCONV15_UPSAMPLE, GI_DF_ALLCONV16, GI_DF_ALLCONV17,
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
#define GI_FILL_COUNT 3

/* Fill `out` for width `cnum` (> 0, divisible by 4) and 0 or 1 guide
 * channels. Returns 0 on success, -1 if the parameters are not supported. */
int gi_deepfill_layer_specs(int32_t cnum, int32_t guide_channels,
                            gi_layer_spec out[GI_DF_NUM_LAYERS]);

#endif
