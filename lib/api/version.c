#include "gatedinpaint.h"

#define GI_STR2(x) #x
#define GI_STR(x) GI_STR2(x)

uint32_t gi_version(void) { return GI_VERSION_NUMBER; }

const char *gi_version_string(void) {
    return GI_STR(GI_VERSION_MAJOR) "." GI_STR(GI_VERSION_MINOR) "." GI_STR(GI_VERSION_PATCH);
}
