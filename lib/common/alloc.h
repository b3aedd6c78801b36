/* Every heap allocation the library makes itself goes through these
 * wrappers, so that one test hook can make any of them fail (see
 * tests/bad/test_alloc_fail.c and docs/RELIABILITY.md). Memory from them is
 * released with plain free(). Internal: nothing here is exported. */
#ifndef GI_ALLOC_H
#define GI_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *gi_malloc(size_t size);
void *gi_calloc(size_t n, size_t size);
/* 64-byte (or `align`) aligned; `size` is rounded up to a multiple of
 * `align` here, as aligned_alloc() requires. */
void *gi_aligned_alloc(size_t align, size_t size);

/* Test hook, not part of the public API. After gi_alloc_fail_after(n) the
 * allocation numbered n (0 = the next one) fails, and so does every later
 * one when `sticky` is set; n < 0 turns failures off. The count covers all
 * threads. gi_alloc_count() is the number of allocations attempted since
 * the last gi_alloc_fail_after() call (counted only while a failure point
 * is set: gi_alloc_fail_after(INT64_MAX, 0) just counts). */
void gi_alloc_fail_after(int64_t n, int sticky);
int64_t gi_alloc_count(void);
/* The largest single request seen in the same period (bytes). */
size_t gi_alloc_largest(void);

#endif
