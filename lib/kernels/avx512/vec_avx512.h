/* One AVX-512 vector of 16 floats behind the names the ISA-generic kernel
 * templates use (../vec_math.h, ../conv_direct_simd.h, ../gemm_simd.h).
 * Needs AVX-512 F; compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl. */
#ifndef GI_VEC_AVX512_H
#define GI_VEC_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "../vec_common.h"

typedef __m512 gi_vf;
#define GI_VF_LANES 16

GI_VF_INLINE gi_vf vf_zero(void) { return _mm512_setzero_ps(); }
GI_VF_INLINE gi_vf vf_set1(float x) { return _mm512_set1_ps(x); }
GI_VF_INLINE gi_vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
GI_VF_INLINE void vf_store(float *p, gi_vf v) { _mm512_storeu_ps(p, v); }

GI_VF_INLINE __mmask16 vf_first_n(int32_t n) { return (__mmask16)((1u << n) - 1u); }
/* The first n (1..16) lanes; the others are neither read nor written. */
GI_VF_INLINE gi_vf vf_load_n(const float *p, int32_t n) {
    return _mm512_maskz_loadu_ps(vf_first_n(n), p);
}
GI_VF_INLINE void vf_store_n(float *p, gi_vf v, int32_t n) {
    _mm512_mask_storeu_ps(p, vf_first_n(n), v);
}

GI_VF_INLINE gi_vf vf_fma(gi_vf a, gi_vf b, gi_vf c) { return _mm512_fmadd_ps(a, b, c); }
GI_VF_INLINE gi_vf vf_add(gi_vf a, gi_vf b) { return _mm512_add_ps(a, b); }
GI_VF_INLINE gi_vf vf_sub(gi_vf a, gi_vf b) { return _mm512_sub_ps(a, b); }
GI_VF_INLINE gi_vf vf_mul(gi_vf a, gi_vf b) { return _mm512_mul_ps(a, b); }
GI_VF_INLINE gi_vf vf_div(gi_vf a, gi_vf b) { return _mm512_div_ps(a, b); }
GI_VF_INLINE gi_vf vf_min(gi_vf a, gi_vf b) { return _mm512_min_ps(a, b); }
GI_VF_INLINE gi_vf vf_max(gi_vf a, gi_vf b) { return _mm512_max_ps(a, b); }
GI_VF_INLINE gi_vf vf_abs(gi_vf a) { return _mm512_abs_ps(a); }
GI_VF_INLINE gi_vf vf_round(gi_vf a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* 2^n for integral n in [-126, 127], built in the exponent field. */
GI_VF_INLINE gi_vf vf_pow2i(gi_vf n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
/* x > 0 ? a : b, lane by lane. */
GI_VF_INLINE gi_vf vf_select_pos(gi_vf x, gi_vf a, gi_vf b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), b, a);
}
/* |mag| with the sign of sgn. */
GI_VF_INLINE gi_vf vf_copysign(gi_vf mag, gi_vf sgn) {
    const __m512i sign = _mm512_set1_epi32(INT32_MIN);
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        sign, _mm512_castps_si512(sgn), _mm512_castps_si512(mag), 0xca)); /* sign bit ? sgn : mag */
}

#endif
