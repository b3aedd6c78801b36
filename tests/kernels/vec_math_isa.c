/* One ISA's vector activations (lib/kernels/vec_math.h) over an array, for
 * test_vec_math.c; built once per ISA with that ISA's flags. */
#include <stdint.h>

#if defined(GI_TEST_AVX512)
#include "kernels/avx512/vec_avx512.h"
#define GI_TEST_NAME gi_test_act_avx512
#else
#include "kernels/avx2/vec_avx2.h"
#define GI_TEST_NAME gi_test_act_avx2
#endif
#include "kernels/vec_math.h"

/* y = act(x) for n a multiple of 16; act 0 exp, 1 ELU, 2 sigmoid, 3 tanh. */
void GI_TEST_NAME(int act, const float *x, float *y, int32_t n);
void GI_TEST_NAME(int act, const float *x, float *y, int32_t n) {
    for (int32_t i = 0; i < n; i += GI_VF_LANES) {
        gi_vf v = vf_load(x + i);
        vf_store(y + i, act == 0 ? vf_exp(v) : act == 1 ? vf_elu(v)
                        : act == 2 ? vf_sigmoid(v) : vf_tanh(v));
    }
}
