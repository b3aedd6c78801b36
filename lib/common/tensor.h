/* The tensor object behind the opaque gi_tensor handle. */
#ifndef GI_TENSOR_H
#define GI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "gatedinpaint.h"

struct gi_tensor {
    int32_t dtype;     /* GI_DTYPE_* */
    int32_t h, w, c;
    size_t row_stride; /* bytes */
    uint8_t *data;
    int owned;         /* data allocated by us (freed with the tensor) */
};

/* Bytes per element of a dtype, 0 if unknown. */
size_t gi_dtype_size(int32_t dtype);

/* Address of row y. */
static inline void *gi_tensor_row(const gi_tensor *t, int32_t y) {
    return t->data + (size_t)y * t->row_stride;
}

#endif
