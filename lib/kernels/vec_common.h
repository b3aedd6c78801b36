/* What every ISA vector header (avx2/vec_avx2.h, avx512/vec_avx512.h,
 * neon/vec_neon.h) shares: forced inlining and full unrolling, so that the
 * templates' arrays of accumulators live in registers. */
#ifndef GI_VEC_COMMON_H
#define GI_VEC_COMMON_H

#define GI_VF_INLINE static inline __attribute__((always_inline))
/* Unroll the next loop completely (its trip count is a constant after
 * inlining), so arrays of vectors indexed by it can live in registers. */
#ifdef __clang__
#define GI_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GI_UNROLL _Pragma("GCC unroll 16")
#endif

/* One ISA's kernel table from the templates: conv_direct_simd.h's functions
 * (included by the file that uses this) and the ISA's GEMM. */
#define GI_SIMD_KERNEL_TABLE(isa_name, isa_id, gemm_fn, getter)            \
    void gemm_fn(int32_t m, int32_t n, int32_t k, const float *a, size_t lda, \
                 const float *b, size_t ldb, float *c, size_t ldc);         \
    static const gi_kernels isa_name##_kernels = {                          \
        .name = #isa_name,                                                  \
        .isa = isa_id,                                                      \
        .conv_packed_size = conv_packed_size,                               \
        .conv_pack = conv_pack,                                             \
        .conv_scratch_size = conv_scratch_size,                             \
        .conv_rows = conv_rows,                                             \
        .gemm_ab = gemm_fn,                                                 \
    };                                                                      \
    const gi_kernels *getter(void) { return &isa_name##_kernels; }

#endif
