#include "tensor.h"

#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "error.h"

#define GI_MAX_CHANNELS 4096

size_t gi_dtype_size(int32_t dtype) {
    switch (dtype) {
    case GI_DTYPE_U8: return 1;
    case GI_DTYPE_U16: return 2;
    case GI_DTYPE_F32: return 4;
    default: return 0;
    }
}

static gi_status check_dims(const char *fn, int32_t dtype, int32_t h, int32_t w,
                            int32_t c) {
    if (gi_dtype_size(dtype) == 0)
        return gi_fail(GI_E_INVALID_ARG,
                       "%s: dtype %d is not GI_DTYPE_U8, GI_DTYPE_U16 or GI_DTYPE_F32", fn,
                       (int)dtype);
    if (h < 1 || w < 1 || c < 1)
        return gi_fail(GI_E_INVALID_ARG, "%s: shape %dx%dx%d has a side < 1", fn,
                       (int)h, (int)w, (int)c);
    if (c > GI_MAX_CHANNELS)
        return gi_fail(GI_E_INVALID_ARG, "%s: %d channels exceeds the limit of %d", fn,
                       (int)c, GI_MAX_CHANNELS);
    return GI_OK;
}

gi_status gi_tensor_create(int32_t dtype, int32_t height, int32_t width,
                           int32_t channels, gi_tensor **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_tensor_create: out is NULL");
    *out = NULL;
    gi_status st = check_dims("gi_tensor_create", dtype, height, width, channels);
    if (st) return st;
    size_t row = (size_t)width * (size_t)channels * gi_dtype_size(dtype);
    if ((size_t)height > PTRDIFF_MAX / row)
        return gi_fail(GI_E_NOMEM, "gi_tensor_create: %dx%dx%d is too large", (int)height,
                       (int)width, (int)channels);
    gi_tensor *t = gi_calloc(1, sizeof *t);
    uint8_t *data = gi_calloc((size_t)height, row);
    if (!t || !data) {
        free(t);
        free(data);
        return gi_fail(GI_E_NOMEM, "gi_tensor_create: cannot allocate %dx%dx%d", (int)height,
                       (int)width, (int)channels);
    }
    *t = (gi_tensor){dtype, height, width, channels, row, data, 1};
    *out = t;
    return GI_OK;
}

gi_status gi_tensor_wrap(int32_t dtype, int32_t height, int32_t width,
                         int32_t channels, void *data, size_t row_stride,
                         gi_tensor **out) {
    if (!out) return gi_fail(GI_E_INVALID_ARG, "gi_tensor_wrap: out is NULL");
    *out = NULL;
    gi_status st = check_dims("gi_tensor_wrap", dtype, height, width, channels);
    if (st) return st;
    if (!data) return gi_fail(GI_E_INVALID_ARG, "gi_tensor_wrap: data is NULL");
    size_t es = gi_dtype_size(dtype);
    size_t row = (size_t)width * (size_t)channels * es;
    if (row_stride < row)
        return gi_fail(GI_E_INVALID_ARG,
                       "gi_tensor_wrap: row_stride %zu is less than width*channels*%zu = %zu",
                       row_stride, es, row);
    if (row_stride % es)
        return gi_fail(GI_E_INVALID_ARG,
                       "gi_tensor_wrap: row_stride %zu is not a multiple of the element size %zu",
                       row_stride, es);
    /* The last row's end must be addressable: no pointer arithmetic on the
     * tensor may wrap around (row_stride comes from the caller). */
    if ((size_t)(height - 1) > (PTRDIFF_MAX - row) / row_stride)
        return gi_fail(GI_E_INVALID_ARG,
                       "gi_tensor_wrap: %d rows of row_stride %zu bytes exceed the address space",
                       (int)height, row_stride);
    if ((uintptr_t)data % es)
        return gi_fail(GI_E_INVALID_ARG, "gi_tensor_wrap: data is not aligned to %zu bytes",
                       es);
    gi_tensor *t = gi_calloc(1, sizeof *t);
    if (!t) return gi_fail(GI_E_NOMEM, "gi_tensor_wrap: out of memory");
    *t = (gi_tensor){dtype, height, width, channels, row_stride, data, 0};
    *out = t;
    return GI_OK;
}

void gi_tensor_destroy(gi_tensor *t) {
    if (!t) return;
    if (t->owned) free(t->data);
    free(t);
}

gi_status gi_tensor_shape(const gi_tensor *t, int32_t *height, int32_t *width,
                          int32_t *channels) {
    if (!t) return gi_fail(GI_E_INVALID_ARG, "gi_tensor_shape: tensor is NULL");
    if (height) *height = t->h;
    if (width) *width = t->w;
    if (channels) *channels = t->c;
    return GI_OK;
}

int32_t gi_tensor_dtype(const gi_tensor *t) { return t ? t->dtype : 0; }
void *gi_tensor_data(gi_tensor *t) { return t ? t->data : NULL; }
size_t gi_tensor_row_stride(const gi_tensor *t) { return t ? t->row_stride : 0; }
