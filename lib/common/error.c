#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GI_ERR_MAX 1024

static _Thread_local char last_error[GI_ERR_MAX];

gi_status gi_fail(gi_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void gi_error_prefix(const char *what) {
    size_t wl = strnlen(what, GI_ERR_MAX / 2), ml = strlen(last_error);
    if (wl + 2 + ml >= GI_ERR_MAX) ml = GI_ERR_MAX - 1 - wl - 2; /* truncate the tail */
    memmove(last_error + wl + 2, last_error, ml);
    memcpy(last_error, what, wl);
    last_error[wl] = ':';
    last_error[wl + 1] = ' ';
    last_error[wl + 2 + ml] = '\0';
}

const char *gi_last_error(void) { return last_error; }

const char *gi_status_string(gi_status status) {
    switch (status) {
    case GI_OK: return "ok";
    case GI_E_INVALID_ARG: return "invalid argument";
    case GI_E_NOMEM: return "out of memory";
    case GI_E_IO: return "input/output error";
    case GI_E_BAD_MODEL: return "bad model file";
    case GI_E_UNSUPPORTED: return "unsupported";
    case GI_E_SHAPE: return "shape mismatch";
    case GI_E_CANCELLED: return "cancelled";
    case GI_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}
