/* One NEON (AArch64 Advanced SIMD) vector of 4 floats behind the names the
 * ISA-generic kernel templates use (../vec_math.h, ../conv_direct_simd.h,
 * ../gemm_simd.h). Advanced SIMD is part of every AArch64 CPU: no flags. */
#ifndef GI_VEC_NEON_H
#define GI_VEC_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "../vec_common.h"

typedef float32x4_t gi_vf;
#define GI_VF_LANES 4

GI_VF_INLINE gi_vf vf_zero(void) { return vdupq_n_f32(0.0f); }
GI_VF_INLINE gi_vf vf_set1(float x) { return vdupq_n_f32(x); }
GI_VF_INLINE gi_vf vf_load(const float *p) { return vld1q_f32(p); }
GI_VF_INLINE void vf_store(float *p, gi_vf v) { vst1q_f32(p, v); }

/* The first n (1..4) lanes; the others are neither read nor written (NEON
 * has no masked memory access: go through a small buffer). */
GI_VF_INLINE gi_vf vf_load_n(const float *p, int32_t n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)n * sizeof *t);
    return vld1q_f32(t);
}
GI_VF_INLINE void vf_store_n(float *p, gi_vf v, int32_t n) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, (size_t)n * sizeof *t);
}

GI_VF_INLINE gi_vf vf_fma(gi_vf a, gi_vf b, gi_vf c) { return vfmaq_f32(c, a, b); }
GI_VF_INLINE gi_vf vf_add(gi_vf a, gi_vf b) { return vaddq_f32(a, b); }
GI_VF_INLINE gi_vf vf_sub(gi_vf a, gi_vf b) { return vsubq_f32(a, b); }
GI_VF_INLINE gi_vf vf_mul(gi_vf a, gi_vf b) { return vmulq_f32(a, b); }
GI_VF_INLINE gi_vf vf_div(gi_vf a, gi_vf b) { return vdivq_f32(a, b); }
GI_VF_INLINE gi_vf vf_min(gi_vf a, gi_vf b) { return vminq_f32(a, b); }
GI_VF_INLINE gi_vf vf_max(gi_vf a, gi_vf b) { return vmaxq_f32(a, b); }
GI_VF_INLINE gi_vf vf_abs(gi_vf a) { return vabsq_f32(a); }
/* Round to nearest, ties to even (as _MM_FROUND_TO_NEAREST_INT). */
GI_VF_INLINE gi_vf vf_round(gi_vf a) { return vrndnq_f32(a); }
/* 2^n for integral n in [-126, 127], built in the exponent field. */
GI_VF_INLINE gi_vf vf_pow2i(gi_vf n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}
/* x > 0 ? a : b, lane by lane. */
GI_VF_INLINE gi_vf vf_select_pos(gi_vf x, gi_vf a, gi_vf b) {
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), a, b);
}
/* |mag| with the sign of sgn. */
GI_VF_INLINE gi_vf vf_copysign(gi_vf mag, gi_vf sgn) {
    return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}

#endif
