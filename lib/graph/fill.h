/* Hole pre-fill for models whose metadata asks for it
 * (gatedinpaint.input_fill = "pushpull", "guided_pushpull" or "ring_warp",
 * docs/MODEL_FORMAT.md): before stage 1, the colour of each hole pixel is
 * replaced by a smooth interpolation of the valid pixels around it instead
 * of 0. */
#ifndef GI_GRAPH_FILL_H
#define GI_GRAPH_FILL_H

#include <stddef.h>
#include <stdint.h>

/* Scratch bytes gi_pushpull_fill needs for an h x w image. */
size_t gi_pushpull_scratch(int32_t h, int32_t w);

/* Push-pull fill, in place. x: h x w pixels, `stride` floats apart, colour
 * in channels 0..2; hole: h x w, 1 = hole, 0 = valid. Only hole pixels are
 * written. Definition (tools/train/gitrain/nets.py pushpull is the same):
 * level l+1 has ceil(h/2) x ceil(w/2) pixels, each the mean of the valid
 * pixels of its 2x2 block, valid if any of them is; the hole pixels of
 * level l take the 2x bilinear upsampling (half-pixel centres, edges
 * clamped) of the filled level l+1. A 1x1 level without valid pixels is 0. */
void gi_pushpull_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                      void *scratch);

/* Scratch bytes gi_guided_pushpull_fill needs for an h x w image. */
size_t gi_guided_pushpull_scratch(int32_t h, int32_t w);

/* Guided push-pull fill, in place: like gi_pushpull_fill, but colour does
 * not flow across the guide's lines (tools/train/gitrain/nets.py
 * guided_pushpull is the same). x, stride, hole: as gi_pushpull_fill; edge:
 * h x w values `edge_stride` floats apart, a pixel is on the guide if
 * edge > 0.5. h * w must be below 2^31. Definition:
 * 1. push-pull fill of every hole pixel ("base").
 * 2. G = hole pixels on the guide; if G is empty, stop.
 * 3. Each 4-connected region C of the other hole pixels: B = C's bounding
 *    box grown by 2 px, clipped to the image; ring = known pixels within
 *    Chebyshev distance 2 of C. If the ring is empty C keeps "base", else C
 *    takes the push-pull fill of the window B (pyramid origin at B's
 *    top-left) in which only the ring is valid.
 * 4. G takes the push-pull fill in which every pixel outside G is valid.
 * Only hole pixels are written. */
void gi_guided_pushpull_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                             const float *edge, int32_t edge_stride, void *scratch);

/* Scratch bytes gi_ring_warp_fill needs for an h x w image: about 110 a
 * pixel, sized for a border loop of 2 h w + 8 entries (docs/PERFORMANCE.md). */
size_t gi_ring_warp_scratch(int32_t h, int32_t w);

/* Ring-warp fill, in place (ring_warp.c; tools/train/gitrain/nets.py
 * ring_warp_fill is the reference, step by step): gi_guided_pushpull_fill,
 * then the colours at each hole's border are warped along it so that every
 * guide line meets the border where the known outline it stands for does,
 * and each region between guide lines is filled from its warped border: a
 * line drawn beside an outline moves the outline to it. Arguments as
 * gi_guided_pushpull_fill's; h * w must be below 2^31. */
void gi_ring_warp_fill(float *x, int32_t h, int32_t w, int32_t stride, const float *hole,
                       const float *edge, int32_t edge_stride, void *scratch);

#endif
