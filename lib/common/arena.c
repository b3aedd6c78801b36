#include "arena.h"

#include <inttypes.h>
#include <stdlib.h>

#include "alloc.h"
#include "error.h"

gi_status gi_arena_check(const gi_arena *a, const char *fn, size_t bytes) {
    if (!a->limit || bytes <= a->limit) return GI_OK;
    return gi_fail(GI_E_NOMEM,
                   "%s: needs %zu bytes (%.1f MiB) of working memory, more than "
                   "GI_OPT_MEM_LIMIT = %" PRIu64 " bytes (%.1f MiB)",
                   fn, bytes, (double)bytes / 1048576.0, a->limit,
                   (double)a->limit / 1048576.0);
}

void gi_arena_release(gi_arena *a) {
    free(a->base);
    a->base = NULL;
    a->size = 0;
}

gi_status gi_arena_reserve(gi_arena *a, size_t size) {
    if (size <= a->size) return GI_OK;
    if (size > SIZE_MAX - 63)
        return gi_fail(GI_E_NOMEM, "cannot allocate %zu bytes of working memory", size);
    size = (size + 63) & ~(size_t)63;
    gi_status st = gi_arena_check(a, "gi_session_reserve", size);
    if (st) return st;
    gi_arena_release(a); /* the old contents are not needed: no realloc */
    void *p = gi_aligned_alloc(64, size);
    if (!p)
        return gi_fail(GI_E_NOMEM, "cannot allocate %zu MB of working memory", size >> 20);
    a->base = p;
    a->size = size;
    return GI_OK;
}
