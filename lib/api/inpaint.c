/* gi_inpaint: argument checks, then the runner (lib/runner) does the work. */
#include "../common/error.h"
#include "../common/tensor.h"
#include "../runner/runner.h"
#include "session.h"

#define MIN_SIDE 16

static gi_status check_like(const char *what, const gi_tensor *t, int32_t dtype, int32_t want_c,
                            const gi_tensor *image) {
    const int32_t h = image->h, w = image->w;
    if (t->dtype != dtype)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s must be %s", what,
                       dtype == GI_DTYPE_U8 ? "GI_DTYPE_U8" : "GI_DTYPE_U16, like image");
    if (t->h != h || t->w != w)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s is %dx%d, image is %dx%d (width x height)",
                       what, (int)t->w, (int)t->h, (int)image->w, (int)image->h);
    if (want_c && t->c != want_c)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: %s has %d channels, expected %d", what,
                       (int)t->c, (int)want_c);
    return GI_OK;
}

static gi_status check_args(gi_session *s, const gi_tensor *image, const gi_tensor *mask,
                            const gi_tensor *guide, gi_tensor *out) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: session is NULL");
    if (!image) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: image is NULL");
    if (!mask) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: mask is NULL");
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_inpaint: out is NULL");
    if (image->dtype != GI_DTYPE_U8 && image->dtype != GI_DTYPE_U16)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: image must be GI_DTYPE_U8 or GI_DTYPE_U16");
    if (image->c < 1 || image->c > 4)
        return gi_fail(GI_E_SHAPE,
                       "gi_inpaint: image has %d channels, expected 1 (grey), 2 (grey+alpha), "
                       "3 (RGB) or 4 (RGBA)",
                       (int)image->c);
    if (image->h < MIN_SIDE || image->w < MIN_SIDE)
        return gi_fail(GI_E_SHAPE, "gi_inpaint: image is %dx%d, the minimum is %dx%d",
                       (int)image->w, (int)image->h, MIN_SIDE, MIN_SIDE);
    /* Before any size arithmetic: the limit keeps every product in range. */
    gi_status st = gi_session_check_pixels(s, "gi_inpaint", "image", image->h, image->w);
    if (st) return st;
    st = check_like("mask", mask, GI_DTYPE_U8, 1, image);
    if (!st) st = check_like("out", out, image->dtype, image->c, image);
    if (st) return st;
    if (guide) {
        if (s->model->info.guide_channels == 0)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_inpaint: a guide was given but model '%s' has no guide channel",
                           s->model->name);
        st = check_like("guide", guide, GI_DTYPE_U8, 1, image);
    }
    return st;
}

gi_status gi_inpaint(gi_session *s, const gi_tensor *image, const gi_tensor *mask,
                     const gi_tensor *guide, gi_tensor *out) {
    gi_status st = check_args(s, image, mask, guide, out);
    if (st) return st;
    gi_exec ex = gi_session_exec(s);
    gi_run_stats stats;
    st = gi_run_inpaint(s->model, &ex, s->strategy, image, mask, guide, out, &stats);
    if (!st) {
        s->last_regions = stats.regions;
        s->last_scale = stats.max_scale;
    }
    return st;
}
