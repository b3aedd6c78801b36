/* libFuzzer target for image decoding: the bytes are a PNG, JPEG, WebP or
 * TIFF file image (or anything else) decoded by gi_image_load's code path,
 * then converted the ways the API offers, and decoded once more the way
 * the CLI reads images (gi_image_load_ex: 16-bit samples kept, EXIF and
 * ICC profile read). Any input must give GI_OK or a
 * clean GI_E_IO / GI_E_UNSUPPORTED / GI_E_NOMEM with a message, never a
 * crash, over-read, leak or undefined behaviour.
 * Built with -fsanitize=fuzzer in the sanitizer build (tools/run-tests.sh),
 * and with replay_main.c into a corpus replayer in every build. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gatedinpaint.h"
#include "io/image_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink; /* keeps reads the compiler could drop */

static void check_status(gi_status st) {
    if (st == GI_OK) return;
    if (st != GI_E_IO && st != GI_E_UNSUPPORTED && st != GI_E_NOMEM) __builtin_trap();
    if (gi_last_error()[0] == '\0') __builtin_trap(); /* errors always say why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* 1 Mpx: what the decoders' own fuzzers allow; keeps a run in memory. */
    gi_image_set_max_pixels((uint64_t)1 << 20);
    gi_tensor *img = NULL, *mask = NULL, *conv = NULL;
    gi_status st = gi_image_load_memory(data, size, 0, 0, &img, NULL);
    check_status(st);
    if (st == GI_OK) {
        int32_t h = 0, w = 0, c = 0;
        if (gi_tensor_shape(img, &h, &w, &c) != GI_OK || h < 1 || w < 1 || c < 1 || c > 4)
            __builtin_trap();
        /* Touch every pixel: uninitialised rows show up under MSan/valgrind. */
        const uint8_t *p = gi_tensor_data(img);
        size_t stride = gi_tensor_row_stride(img);
        unsigned sum = 0;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w * c; x++) sum += p[(size_t)y * stride + (size_t)x];
        if (gi_image_to_mask(img, &mask) != GI_OK) __builtin_trap();
        /* The conversions the API offers, once per input. */
        static const int32_t want[3] = {1, 3, 4};
        st = gi_image_load_memory(data, size, want[sum % 3], 0, &conv, NULL);
        if (st != GI_OK) __builtin_trap(); /* decoded once, must decode again */
    }
    gi_tensor_destroy(conv);
    gi_tensor_destroy(mask);
    gi_tensor_destroy(img);

    gi_tensor *deep = NULL;
    gi_metadata *meta = NULL;
    st = gi_image_load_memory(data, size, 0, GI_LOAD_16BIT, &deep, &meta);
    check_status(st);
    if (st == GI_OK) {
        int32_t h = 0, w = 0, c = 0;
        gi_tensor_shape(deep, &h, &w, &c);
        const size_t row = (size_t)w * (size_t)c * (gi_tensor_dtype(deep) == GI_DTYPE_U16 ? 2 : 1);
        const uint8_t *p = gi_tensor_data(deep);
        unsigned sum = 0;
        for (int32_t y = 0; y < h; y++)
            for (size_t x = 0; x < row; x++) sum += p[(size_t)y * gi_tensor_row_stride(deep) + x];
        for (int32_t kind = GI_META_EXIF; kind <= GI_META_ICC; kind++) {
            const void *block;
            size_t n;
            if (gi_metadata_get(meta, kind, &block, &n) != GI_OK) __builtin_trap();
            for (size_t i = 0; i < n; i++) sum += ((const uint8_t *)block)[i];
        }
        sink = sum;
    }
    gi_metadata_destroy(meta);
    gi_tensor_destroy(deep);
    return 0;
}
