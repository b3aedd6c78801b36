/* libFuzzer target for the model reader: any input must give GI_OK or a
 * clean error, never a crash, over-read or leak. Built by run_fuzz.sh from
 * the loader's sources alone, hence the gi_graph_free_packed definition
 * below: a freshly loaded model has no packed weights to free. */
#include <stddef.h>
#include <stdint.h>

#include "gatedinpaint.h"
#include "model/model.h"

void gi_graph_free_packed(gi_model *m) { (void)m; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gi_model *m = NULL;
    gi_status st = gi_model_load_memory(data, size, &m);
    if (st == GI_OK) {
        /* exercise the getters on whatever loaded */
        const char *s;
        int64_t v;
        for (int32_t prop = 0; prop < 24; prop++) {
            (void)gi_model_get_string(m, prop, &s);
            (void)gi_model_get_int(m, prop, &v);
        }
    } else if (st != GI_E_BAD_MODEL && st != GI_E_INVALID_ARG &&
               st != GI_E_NOMEM) {
        __builtin_trap(); /* any other status from memory input is a bug */
    }
    gi_model_release(m);
    return 0;
}
