/* One AVX2 vector of 8 floats behind the names the ISA-generic kernel
 * templates use (../vec_math.h, ../conv_direct_simd.h, ../gemm_simd.h).
 * Compiled with -mavx2 -mfma. */
#ifndef GI_VEC_AVX2_H
#define GI_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "../vec_common.h"

typedef __m256 gi_vf;
#define GI_VF_LANES 8

GI_VF_INLINE gi_vf vf_zero(void) { return _mm256_setzero_ps(); }
GI_VF_INLINE gi_vf vf_set1(float x) { return _mm256_set1_ps(x); }
GI_VF_INLINE gi_vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
GI_VF_INLINE void vf_store(float *p, gi_vf v) { _mm256_storeu_ps(p, v); }

/* Lane mask of the first n (1..8) lanes for maskload/maskstore. */
GI_VF_INLINE __m256i vf_first_n(int32_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* The first n (1..8) lanes; the others are neither read nor written. */
GI_VF_INLINE gi_vf vf_load_n(const float *p, int32_t n) {
    return _mm256_maskload_ps(p, vf_first_n(n));
}
GI_VF_INLINE void vf_store_n(float *p, gi_vf v, int32_t n) {
    _mm256_maskstore_ps(p, vf_first_n(n), v);
}

GI_VF_INLINE gi_vf vf_fma(gi_vf a, gi_vf b, gi_vf c) { return _mm256_fmadd_ps(a, b, c); }
GI_VF_INLINE gi_vf vf_add(gi_vf a, gi_vf b) { return _mm256_add_ps(a, b); }
GI_VF_INLINE gi_vf vf_sub(gi_vf a, gi_vf b) { return _mm256_sub_ps(a, b); }
GI_VF_INLINE gi_vf vf_mul(gi_vf a, gi_vf b) { return _mm256_mul_ps(a, b); }
GI_VF_INLINE gi_vf vf_div(gi_vf a, gi_vf b) { return _mm256_div_ps(a, b); }
GI_VF_INLINE gi_vf vf_min(gi_vf a, gi_vf b) { return _mm256_min_ps(a, b); }
GI_VF_INLINE gi_vf vf_max(gi_vf a, gi_vf b) { return _mm256_max_ps(a, b); }
GI_VF_INLINE gi_vf vf_abs(gi_vf a) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
}
GI_VF_INLINE gi_vf vf_round(gi_vf a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* 2^n for integral n in [-126, 127], built in the exponent field. */
GI_VF_INLINE gi_vf vf_pow2i(gi_vf n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
/* x > 0 ? a : b, lane by lane. */
GI_VF_INLINE gi_vf vf_select_pos(gi_vf x, gi_vf a, gi_vf b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}
/* |mag| with the sign of sgn. */
GI_VF_INLINE gi_vf vf_copysign(gi_vf mag, gi_vf sgn) {
    const gi_vf sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
}

#endif
