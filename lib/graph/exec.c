#include "exec.h"

#include "../common/error.h"

gi_status gi_exec_report(const gi_exec *ex, float done, const char *stage) {
    if (!ex->progress) return GI_OK;
    if (done > 1.0f) done = 1.0f;
    if (ex->progress(ex->progress_user, ex->span_start + done * ex->span_len, stage))
        return gi_fail(GI_E_CANCELLED, "gi_inpaint: cancelled by the progress callback (%s)",
                       stage);
    return GI_OK;
}
