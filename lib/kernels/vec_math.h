/* Vectorised exp, expm1, sigmoid, ELU and tanh for the convolution
 * epilogues, written once over the vf_* operations of an ISA header
 * (avx2/vec_avx2.h, avx512/vec_avx512.h), which must be included first.
 *
 * exp: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so n ln2 is exact),
 * e^r - 1 = r + r^2 q(r) with Cephes' degree-5 expf polynomial, then scaled
 * by 2^n: about 1 ulp on the clamped range. */
#ifndef GI_VEC_MATH_H
#define GI_VEC_MATH_H

/* Range: below -87 the result is ~1e-38 instead of a subnormal, above 88 it
 * stays ~1.6e38 instead of overflowing; both are far outside what the gates
 * and activations can tell apart. */
#define GI_EXP_LO (-87.0f)
#define GI_EXP_HI 88.0f

/* e^r - 1 for |r| <= ln2/2, and the 2^n scale, of a clamped x. */
GI_VF_INLINE gi_vf vf_exp_parts(gi_vf x, gi_vf *scale) {
    x = vf_min(vf_max(x, vf_set1(GI_EXP_LO)), vf_set1(GI_EXP_HI));
    gi_vf n = vf_round(vf_mul(x, vf_set1(1.44269504088896341f)));
    gi_vf r = vf_fma(n, vf_set1(-0.693359375f), x); /* ln2 high part: 8 bits */
    r = vf_fma(n, vf_set1(2.12194440e-4f), r);       /* ln2 low part */
    gi_vf q = vf_set1(1.9875691500e-4f);
    q = vf_fma(q, r, vf_set1(1.3981999507e-3f));
    q = vf_fma(q, r, vf_set1(8.3334519073e-3f));
    q = vf_fma(q, r, vf_set1(4.1665795894e-2f));
    q = vf_fma(q, r, vf_set1(1.6666665459e-1f));
    q = vf_fma(q, r, vf_set1(5.0000001201e-1f));
    *scale = vf_pow2i(n);
    return vf_fma(vf_mul(r, r), q, r);
}

GI_VF_INLINE gi_vf vf_exp(gi_vf x) {
    gi_vf s, em1 = vf_exp_parts(x, &s);
    return vf_fma(em1, s, s); /* 2^n (1 + em1) */
}

/* e^x - 1 with full relative accuracy near 0: 2^n em1 + (2^n - 1), where
 * n = 0 gives em1 itself and 2^n - 1 is exact for the n where it matters. */
GI_VF_INLINE gi_vf vf_expm1(gi_vf x) {
    gi_vf s, em1 = vf_exp_parts(x, &s);
    return vf_fma(em1, s, vf_sub(s, vf_set1(1.0f)));
}

GI_VF_INLINE gi_vf vf_sigmoid(gi_vf x) {
    const gi_vf one = vf_set1(1.0f);
    return vf_div(one, vf_add(one, vf_exp(vf_sub(vf_zero(), x))));
}

GI_VF_INLINE gi_vf vf_elu(gi_vf x) { return vf_select_pos(x, x, vf_expm1(x)); }

GI_VF_INLINE gi_vf vf_relu(gi_vf x) { return vf_max(x, vf_zero()); }

/* tanh|x| = t / (t + 2) with t = expm1(2|x|): no cancellation for small |x|;
 * past |x| = 9 the float result is 1. */
GI_VF_INLINE gi_vf vf_tanh(gi_vf x) {
    gi_vf ax = vf_min(vf_abs(x), vf_set1(9.0f));
    gi_vf t = vf_expm1(vf_add(ax, ax));
    return vf_copysign(vf_div(t, vf_add(t, vf_set1(2.0f))), x);
}

#endif
