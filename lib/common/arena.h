/* A growable scratch arena with a byte limit: the working memory of one
 * gi_inpaint call, kept between calls (a session owns one). */
#ifndef GI_ARENA_H
#define GI_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "gatedinpaint.h"

typedef struct gi_arena {
    void *base;     /* 64-byte aligned, NULL while empty */
    size_t size;
    uint64_t limit; /* GI_OPT_MEM_LIMIT: 0 = none */
} gi_arena;

/* GI_E_NOMEM with a message giving both figures when `bytes` of working
 * memory exceed the arena's limit. */
gi_status gi_arena_check(const gi_arena *a, const char *fn, size_t bytes);

/* Grow to at least `size` bytes (the old contents are dropped). */
gi_status gi_arena_reserve(gi_arena *a, size_t size);

/* Free the memory (the limit stays). */
void gi_arena_release(gi_arena *a);

/* Bump allocation inside a plan: returns the offset of `bytes` at *off and
 * advances *off, keeping every block 64-byte aligned. */
static inline size_t gi_carve(size_t *off, size_t bytes) {
    size_t at = *off;
    *off += (bytes + 63) & ~(size_t)63;
    return at;
}

#endif
