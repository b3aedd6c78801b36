/* The DeepFill v2 generator on prepared float inputs. */
#ifndef GI_DEEPFILL_H
#define GI_DEEPFILL_H

#include <stddef.h>
#include <stdint.h>

#include "../api/session.h"

/* Network input and outputs, all HWC float at the network size h x w
 * (multiples of 8), in the model's channel order. */
typedef struct gi_deepfill_io {
    int32_t h, w;
    const float *x_in;   /* h*w*(3 + guide + 2): colour in [-1,1] with holes 0,
                            (guide edge), ones, mask */
    const float *mask;   /* h*w, 1 = hole */
    float *x_stage1;     /* h*w*3 */
    float *x_stage2;     /* h*w*3 */
} gi_deepfill_io;

/* The steps of a forward pass in the order they run and report progress:
 * the 42 convolutions with the contextual attention after pmconv6. */
#define GI_DF_NUM_STEPS (GI_DF_NUM_LAYERS + 1)

/* Multiply-adds and name of each step at network size h x w (multiples of
 * 8); returns GI_DF_NUM_STEPS. The attention counts its two GEMMs over all
 * patches (holes skipped in the paste are not subtracted). */
int gi_deepfill_steps(const gi_model *m, int32_t h, int32_t w,
                      double macs[GI_DF_NUM_STEPS], const char *names[GI_DF_NUM_STEPS]);

/* Bytes of scratch gi_deepfill_forward() needs at this size. */
size_t gi_deepfill_scratch(const gi_session *s, int32_t h, int32_t w);

/* Run both stages using `scratch` (>= gi_deepfill_scratch bytes, 64-byte
 * aligned). Calls the session's progress callback after every layer and
 * returns GI_E_CANCELLED if it asks to stop. */
gi_status gi_deepfill_forward(gi_session *s, const gi_deepfill_io *io,
                              void *scratch);

#endif
