#include "family.h"

#include <stdio.h>

#include "deepfill_v2.h"
#include "pconv_unet.h"

/* The families this library runs. Adding one: a file defining its
 * gi_family and a row here (docs/ARCHITECTURE.md). */
static const gi_family *const families[] = {
    &gi_family_deepfill_v2,
    &gi_family_pconv_unet,
};

#define NUM_FAMILIES (sizeof families / sizeof families[0])

const gi_family *gi_family_find(gi_gguf_str name) {
    for (size_t i = 0; i < NUM_FAMILIES; i++)
        if (gi_gguf_str_eq(name, families[i]->name)) return families[i];
    return NULL;
}

void gi_family_list(char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NUM_FAMILIES && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s'%s'", i ? ", " : "", families[i]->name);
        if (n < 0) break;
        len += (size_t)n;
    }
}
