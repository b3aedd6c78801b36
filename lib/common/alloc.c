#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

/* -1: never fail. Relaxed atomics: the hook is only meant for tests that
 * drive one call at a time, but it must not be a data race either. */
static atomic_llong fail_at = -1;
static atomic_int fail_sticky;
static atomic_llong counter;
static atomic_size_t largest;

void gi_alloc_fail_after(int64_t n, int sticky) {
    atomic_store(&counter, 0);
    atomic_store(&largest, 0);
    atomic_store(&fail_sticky, sticky != 0);
    atomic_store(&fail_at, n < 0 ? -1 : (long long)n);
}

int64_t gi_alloc_count(void) { return (int64_t)atomic_load(&counter); }
size_t gi_alloc_largest(void) { return atomic_load(&largest); }

/* True when this allocation is to fail. */
static int injected_failure(size_t size) {
    long long at = atomic_load_explicit(&fail_at, memory_order_relaxed);
    if (at < 0) return 0;
    size_t big = atomic_load(&largest);
    while (size > big && !atomic_compare_exchange_weak(&largest, &big, size)) {
    }
    long long k = atomic_fetch_add(&counter, 1);
    return k == at || (k > at && atomic_load(&fail_sticky));
}

void *gi_malloc(size_t size) {
    if (injected_failure(size)) return NULL;
    return malloc(size ? size : 1);
}

void *gi_calloc(size_t n, size_t size) {
    if (injected_failure(size && n > SIZE_MAX / size ? SIZE_MAX : n * size)) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *gi_aligned_alloc(size_t align, size_t size) {
    if (injected_failure(size)) return NULL;
    if (size > SIZE_MAX - align) return NULL;
    size = (size + align - 1) / align * align;
    return aligned_alloc(align, size ? size : align);
}
