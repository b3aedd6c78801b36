/* The C test programs' assertions: count every check, report failures with
 * file, line and message, and let main() print "N passed, N failed". */
#ifndef GI_TEST_CHECK_H
#define GI_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "gatedinpaint.h"

static int checks, failures;

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        checks++;                                                        \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: CHECK(%s): ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, " [last error: %s]\n", gi_last_error());     \
        }                                                                \
    } while (0)

/* The call must fail with `want` and a message containing `needle`. */
#define CHECK_ERR(call, want, needle)                                                    \
    do {                                                                                 \
        gi_status st_ = (call);                                                          \
        CHECK(st_ == (want), "%s returned %d, expected %d", #call, (int)st_, (int)(want)); \
        CHECK(strstr(gi_last_error(), (needle)) != NULL, "%s: message does not mention '%s'", \
              #call, (needle));                                                          \
    } while (0)

/* The closing line test runners and CI read. */
static inline int check_report(void) {
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}

#endif
