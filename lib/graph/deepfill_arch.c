#include "deepfill_arch.h"

#include "gatedinpaint.h"

/* Channel counts are written as multiples of cnum/4 ("q") so that every
 * width divisible by 4 works; for cnum = 48 they give the table of
 * deepfill_v2_reference.md 2.3. */
typedef struct {
    const char *name;
    int8_t cin_q, cconv_q; /* in units of cnum/4; cin_q < 0: image channels */
    int8_t k, stride, dil, act, up;
} row;

#define ELU GI_ACT_ELU_GATED
#define RELU GI_ACT_RELU_GATED
#define TANH GI_ACT_TANH
#define IMG (-1)   /* 3 colour channels (+ guide, ones, mask for conv1) */
#define RGB3 (-2)  /* exactly 3 colour channels */

static const row table[GI_DF_NUM_LAYERS] = {
    /* stage 1: coarse */
    {"conv1", IMG, 4, 5, 1, 1, ELU, 0},
    {"conv2_downsample", 2, 8, 3, 2, 1, ELU, 0},
    {"conv3", 4, 8, 3, 1, 1, ELU, 0},
    {"conv4_downsample", 4, 16, 3, 2, 1, ELU, 0},
    {"conv5", 8, 16, 3, 1, 1, ELU, 0},
    {"conv6", 8, 16, 3, 1, 1, ELU, 0},
    {"conv7_atrous", 8, 16, 3, 1, 2, ELU, 0},
    {"conv8_atrous", 8, 16, 3, 1, 4, ELU, 0},
    {"conv9_atrous", 8, 16, 3, 1, 8, ELU, 0},
    {"conv10_atrous", 8, 16, 3, 1, 16, ELU, 0},
    {"conv11", 8, 16, 3, 1, 1, ELU, 0},
    {"conv12", 8, 16, 3, 1, 1, ELU, 0},
    {"conv13_upsample", 8, 8, 3, 1, 1, ELU, 1},
    {"conv14", 4, 8, 3, 1, 1, ELU, 0},
    {"conv15_upsample", 4, 4, 3, 1, 1, ELU, 1},
    {"conv16", 2, 2, 3, 1, 1, ELU, 0},
    {"conv17", 1, 0, 3, 1, 1, TANH, 0},
    /* stage 2: convolution ("hallucination") branch */
    {"xconv1", RGB3, 4, 5, 1, 1, ELU, 0},
    {"xconv2_downsample", 2, 4, 3, 2, 1, ELU, 0},
    {"xconv3", 2, 8, 3, 1, 1, ELU, 0},
    {"xconv4_downsample", 4, 8, 3, 2, 1, ELU, 0},
    {"xconv5", 4, 16, 3, 1, 1, ELU, 0},
    {"xconv6", 8, 16, 3, 1, 1, ELU, 0},
    {"xconv7_atrous", 8, 16, 3, 1, 2, ELU, 0},
    {"xconv8_atrous", 8, 16, 3, 1, 4, ELU, 0},
    {"xconv9_atrous", 8, 16, 3, 1, 8, ELU, 0},
    {"xconv10_atrous", 8, 16, 3, 1, 16, ELU, 0},
    /* stage 2: attention branch (pmconv6 has ReLU features) */
    {"pmconv1", RGB3, 4, 5, 1, 1, ELU, 0},
    {"pmconv2_downsample", 2, 4, 3, 2, 1, ELU, 0},
    {"pmconv3", 2, 8, 3, 1, 1, ELU, 0},
    {"pmconv4_downsample", 4, 16, 3, 2, 1, ELU, 0},
    {"pmconv5", 8, 16, 3, 1, 1, ELU, 0},
    {"pmconv6", 8, 16, 3, 1, 1, RELU, 0},
    {"pmconv9", 8, 16, 3, 1, 1, ELU, 0},
    {"pmconv10", 8, 16, 3, 1, 1, ELU, 0},
    /* stage 2: merge and decoder */
    {"allconv11", 16, 16, 3, 1, 1, ELU, 0},
    {"allconv12", 8, 16, 3, 1, 1, ELU, 0},
    {"allconv13_upsample", 8, 8, 3, 1, 1, ELU, 1},
    {"allconv14", 4, 8, 3, 1, 1, ELU, 0},
    {"allconv15_upsample", 4, 4, 3, 1, 1, ELU, 1},
    {"allconv16", 2, 2, 3, 1, 1, ELU, 0},
    {"allconv17", 1, 0, 3, 1, 1, TANH, 0},
};

int gi_deepfill_layer_specs(int32_t cnum, int32_t guide_channels,
                            gi_layer_spec out[GI_DF_NUM_LAYERS]) {
    if (cnum <= 0 || cnum % 4 != 0 || cnum > 4096) return -1;
    if (guide_channels != 0 && guide_channels != 1) return -1;
    int32_t q = cnum / 4;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        const row *r = &table[i];
        gi_layer_spec *s = &out[i];
        s->name = r->name;
        if (r->cin_q == IMG)
            s->cin = 3 + guide_channels + 2; /* colour, guide, ones, mask */
        else if (r->cin_q == RGB3)
            s->cin = 3;
        else
            s->cin = r->cin_q * q;
        s->cconv = r->cconv_q ? r->cconv_q * q : 3; /* output layers: colour */
        s->k = r->k;
        s->stride = r->stride;
        s->dilation = r->dil;
        s->act = r->act;
        s->upsample = r->up;
        s->cout = (r->act == GI_ACT_ELU_GATED || r->act == GI_ACT_RELU_GATED)
                      ? s->cconv / 2
                      : s->cconv;
    }
    return 0;
}
