#include "session.h"

#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../cpu/dispatch.h"
#include "../common/alloc.h"
#include "../common/error.h"

static int32_t default_threads(void) {
#ifdef _OPENMP
    int n = omp_get_num_procs();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

/* Default GI_OPT_MEM_LIMIT: the physical memory (0 = unknown = no limit). */
static uint64_t default_mem_limit(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    if ((uint64_t)pages > UINT64_MAX / (uint64_t)page) return 0;
    return (uint64_t)pages * (uint64_t)page;
}

gi_status gi_session_create(gi_model *model, gi_session **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_session_create: out is NULL");
    *out = NULL;
    if (!model) return gi_fail(GI_E_INVALID_ARG, "gi_session_create: model is NULL");
    gi_session *s = gi_calloc(1, sizeof *s);
    if (!s) return gi_fail(GI_E_NOMEM, "gi_session_create: out of memory");
    s->model = gi_model_retain(model);
    s->num_threads = default_threads();
    s->max_isa = GI_ISA_BEST;
    s->kernels = gi_kernels_select(s->max_isa);
    s->max_pixels = GI_MAX_PIXELS_DEFAULT;
    s->strategy = GI_STRATEGY_REGIONS;
    s->last_scale = 1;
    s->arena.limit = default_mem_limit();
    *out = s;
    return GI_OK;
}

void gi_session_destroy(gi_session *s) {
    if (!s) return;
    gi_arena_release(&s->arena);
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
    case GI_OPT_MAX_PIXELS:
        if (value < 0 || value > GI_MAX_PIXELS_CEILING)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_session_set_int: GI_OPT_MAX_PIXELS = %lld is not in 0..%lld",
                           (long long)value, (long long)GI_MAX_PIXELS_CEILING);
        s->max_pixels = value ? value : GI_MAX_PIXELS_CEILING;
        return GI_OK;
    case GI_OPT_MEM_LIMIT:
        if (value < 0)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_session_set_int: GI_OPT_MEM_LIMIT = %lld is negative",
                           (long long)value);
        s->arena.limit = (uint64_t)value;
        if (s->arena.limit && s->arena.size > s->arena.limit) gi_arena_release(&s->arena);
        return GI_OK;
    case GI_OPT_STRATEGY:
        if (value != GI_STRATEGY_REGIONS && value != GI_STRATEGY_EXACT)
            return gi_fail(GI_E_INVALID_ARG,
                           "gi_session_set_int: GI_OPT_STRATEGY = %lld is not "
                           "GI_STRATEGY_REGIONS (0) or GI_STRATEGY_EXACT (1)",
                           (long long)value);
        s->strategy = (int32_t)value;
        return GI_OK;
    case GI_OPT_LAST_REGIONS:
    case GI_OPT_LAST_SCALE:
        return gi_fail(GI_E_INVALID_ARG, "gi_session_set_int: option %d is read-only",
                       (int)option);
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
    case GI_OPT_MAX_PIXELS: *value = s->max_pixels; return GI_OK;
    case GI_OPT_MEM_LIMIT:
        *value = s->arena.limit > INT64_MAX ? INT64_MAX : (int64_t)s->arena.limit;
        return GI_OK;
    case GI_OPT_STRATEGY: *value = s->strategy; return GI_OK;
    case GI_OPT_LAST_REGIONS: *value = s->last_regions; return GI_OK;
    case GI_OPT_LAST_SCALE: *value = s->last_scale; return GI_OK;
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

gi_status gi_session_set_map_observer(gi_session *s, gi_map_observer_fn fn, void *user) {
    if (!s) return gi_fail(GI_E_INVALID_ARG, "gi_session_set_map_observer: session is NULL");
    s->observe = fn;
    s->observe_user = fn ? user : NULL;
    return GI_OK;
}

void gi_session_set_debug_taps(gi_session *s, gi_debug_taps *taps) { s->taps = taps; }

gi_status gi_session_check_pixels(const gi_session *s, const char *fn, const char *what,
                                  int64_t h, int64_t w) {
    if (h * w <= s->max_pixels) return GI_OK; /* h, w < 2^31: no overflow */
    return gi_fail(GI_E_UNSUPPORTED,
                   "%s: %s is %" PRId64 "x%" PRId64 " = %" PRId64
                   " pixels, more than GI_OPT_MAX_PIXELS = %" PRId64
                   " (raise it with gi_session_set_int)",
                   fn, what, w, h, h * w, s->max_pixels);
}

gi_exec gi_session_exec(gi_session *s) {
    return (gi_exec){s->kernels, s->num_threads, s->progress, s->progress_user, 0.0f, 1.0f,
                     s->taps, &s->arena, s->observe, s->observe_user, 0};
}
