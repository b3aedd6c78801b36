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

gi_status gi_exec_observe(const gi_exec *ex, gi_map_info *info, const float *data) {
    info->pass = ex->pass;
    if (ex->observe(ex->observe_user, info, data))
        return gi_fail(GI_E_CANCELLED, "gi_inpaint: cancelled by the map observer (%s)",
                       info->layer);
    return GI_OK;
}
