/* Thread-local error messages shared by every room of the library. */
#ifndef GI_ERROR_H
#define GI_ERROR_H

#include "gatedinpaint.h"

#if defined(__GNUC__)
#define GI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GI_PRINTF(a, b)
#endif

/* Record a message for gi_last_error() and return `status`, so callers can
 * write `return gi_fail(GI_E_SHAPE, "mask is %dx%d, ...", ...);`. */
gi_status gi_fail(gi_status status, const char *fmt, ...) GI_PRINTF(2, 3);

/* Prefix the current message with "what: " (used when passing errors up). */
void gi_error_prefix(const char *what);

#endif
