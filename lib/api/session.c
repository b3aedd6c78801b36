#include "session.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../cpu/dispatch.h"
#include "error.h"

static int32_t default_threads(void) {
#ifdef _OPENMP
    int n = omp_get_num_procs();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

gi_status gi_session_create(gi_model *model, gi_session **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_session_create: out is NULL");
    *out = NULL;
    if (!model) return gi_fail(GI_E_INVALID_ARG, "gi_session_create: model is NULL");
    gi_session *s = calloc(1, sizeof *s);
    if (!s) return gi_fail(GI_E_NOMEM, "gi_session_create: out of memory");
    s->model = gi_model_retain(model);
    s->num_threads = default_threads();
    s->max_isa = GI_ISA_BEST;
    s->kernels = gi_kernels_select(s->max_isa);
    *out = s;
    return GI_OK;
}

void gi_session_destroy(gi_session *s) {
    if (!s) return;
    free(s->scratch);
    gi_model_release(s->model);
    free(s);
}

gi_status gi_session_set_int(gi_session *s, int32_t option, int64_t value) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_session_set_int: session is NULL");
    switch (option) {
    case GI_OPT_NUM_THREADS:
        if (value < 0 || value > 4096)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_session_set_int: GI_OPT_NUM_THREADS = %lld is not in 0..4096",
                           (long long)value);
        s->num_threads = value ? (int32_t)value : default_threads();
        return GI_OK;
    case GI_OPT_MAX_ISA:
        if (value < 0)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_session_set_int: GI_OPT_MAX_ISA = %lld is negative",
                           (long long)value);
        s->max_isa = value > GI_ISA_BEST ? GI_ISA_BEST : (int32_t)value;
        s->kernels = gi_kernels_select(s->max_isa);
        return GI_OK;
    case GI_OPT_ISA:
        return gi_fail(GI_E_INVALID_ARG, "gi_session_set_int: GI_OPT_ISA is read-only");
    default:
        return gi_fail(GI_E_INVALID_ARG, "gi_session_set_int: unknown option %d", (int)option);
    }
}

gi_status gi_session_get_int(const gi_session *s, int32_t option, int64_t *value) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_session_get_int: session is NULL");
    if (!value) return gi_fail(GI_E_INVALID_ARG, "gi_session_get_int: value is NULL");
    switch (option) {
    case GI_OPT_NUM_THREADS: *value = s->num_threads; return GI_OK;
    case GI_OPT_MAX_ISA: *value = s->max_isa; return GI_OK;
    case GI_OPT_ISA: *value = s->kernels->isa; return GI_OK;
    default:
        return gi_fail(GI_E_INVALID_ARG, "gi_session_get_int: unknown option %d", (int)option);
    }
}

gi_status gi_session_set_progress(gi_session *s, gi_progress_fn fn, void *user) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_session_set_progress: session is NULL");
    s->progress = fn;
    s->progress_user = user;
    return GI_OK;
}

void gi_session_set_debug_taps(gi_session *s, gi_debug_taps *taps) { s->taps = taps; }

gi_status gi_session_reserve(gi_session *s, size_t size) {
    if (size <= s->scratch_size) return GI_OK;
    free(s->scratch);
    s->scratch = NULL;
    s->scratch_size = 0;
    size = (size + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size);
    if (!p)
        return gi_fail(GI_E_NOMEM, "cannot allocate %zu MB of working memory", size >> 20);
    s->scratch = p;
    s->scratch_size = size;
    return GI_OK;
}
