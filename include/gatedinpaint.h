/*
 * gatedinpaint.h — libgatedinpaint public API (C99, also valid C++).
 *
 * Free-form image inpainting with gated convolutions (DeepFill v2,
 * Yu et al., ICCV 2019) on the CPU.
 *
 * Quick start
 * -----------
 *     gi_model *m = NULL; gi_session *s = NULL;
 *     gi_tensor *img = NULL, *mask = NULL, *out = NULL;
 *     if (gi_model_load_file("places2.gguf", &m) != GI_OK) { puts(gi_last_error()); ... }
 *     gi_session_create(m, &s);
 *     gi_image_load("photo.png", 3, &img);            // RGB
 *     gi_image_load("mask.png", 0, &mask);            // any channels
 *     gi_image_to_mask(mask, &mask1);                 // 1 channel (the mask rule)
 *     gi_tensor_create(GI_DTYPE_U8, h, w, 3, &out);
 *     gi_inpaint(s, img, mask1, NULL, out);
 *     gi_image_save("result.png", out, 0);
 *     ... gi_tensor_destroy(...); gi_session_destroy(s); gi_model_release(m);
 *
 * Conventions
 * -----------
 * - Every function returns a gi_status (GI_OK = 0, errors negative) unless it
 *   is a getter documented otherwise. On error, gi_last_error() returns a
 *   thread-local, human-readable message naming the offending argument.
 * - Output pointers are written only on success (they are set to NULL on
 *   failure where they are handles).
 * - Every destroy/release function accepts NULL.
 * - The library never aborts, exits or prints.
 * - Images are HWC (row-major rows, interleaved channels), RGB order.
 * - Threads: a gi_model is immutable after load and may be shared by any
 *   number of threads and sessions. A gi_session must be used by one thread at
 *   a time; use one session per thread for concurrency. gi_tensor objects are
 *   plain data: no internal locking.
 *
 * ABI: opaque handles only; enums are append-only; a changed signature is a
 * new function. See docs/ABI.md.
 */
#ifndef GATEDINPAINT_H
#define GATEDINPAINT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(GI_BUILDING_LIBRARY)
#define GI_API __declspec(dllexport)
#elif defined(_WIN32)
#define GI_API
#elif defined(__GNUC__) || defined(__clang__)
#define GI_API __attribute__((visibility("default")))
#else
#define GI_API
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define GI_VERSION_MAJOR 0
#define GI_VERSION_MINOR 1
#define GI_VERSION_PATCH 0
/** Encoded as major*10000 + minor*100 + patch. */
#define GI_VERSION_NUMBER \
    (GI_VERSION_MAJOR * 10000 + GI_VERSION_MINOR * 100 + GI_VERSION_PATCH)

/** Version of the library actually linked (GI_VERSION_NUMBER encoding). */
GI_API uint32_t gi_version(void);
/** "MAJOR.MINOR.PATCH", static storage. */
GI_API const char *gi_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef int32_t gi_status;

/* Append-only: values are never renumbered. */
#define GI_OK 0
#define GI_E_INVALID_ARG (-1) /* a NULL, out-of-range or inconsistent argument */
#define GI_E_NOMEM (-2)       /* allocation failed or a memory limit was hit  */
#define GI_E_IO (-3)          /* file could not be read/written/decoded       */
#define GI_E_BAD_MODEL (-4)   /* model file malformed or inconsistent         */
#define GI_E_UNSUPPORTED (-5) /* valid request this build/model cannot serve  */
#define GI_E_SHAPE (-6)       /* tensor shapes/dtypes do not fit together     */
#define GI_E_CANCELLED (-7)   /* the progress callback asked to stop          */
#define GI_E_INTERNAL (-8)    /* a bug: please report it                      */

/** Short constant description of a status ("invalid argument", ...). */
GI_API const char *gi_status_string(gi_status status);

/**
 * Message describing the last error raised on the calling thread, e.g.
 * "gi_inpaint: mask is 511x512, image is 512x512". Never NULL ("" when no
 * error happened yet). Valid until the next library call on this thread.
 */
GI_API const char *gi_last_error(void);

/* ------------------------------------------------------------------------ */
/* Tensors (images and feature maps)                                         */
/* ------------------------------------------------------------------------ */

typedef struct gi_tensor gi_tensor;

/* Element types. */
#define GI_DTYPE_U8 1  /* uint8_t, images and masks  */
#define GI_DTYPE_F32 2 /* float, feature maps         */
#define GI_DTYPE_U16 3 /* uint16_t (native byte order), 16-bit images */

/**
 * Allocate a zero-filled height x width x channels tensor (HWC, rows
 * contiguous: row stride = width * channels * element size). Sizes must be
 * >= 1; channels <= 4096. Free with gi_tensor_destroy().
 */
GI_API gi_status gi_tensor_create(int32_t dtype, int32_t height, int32_t width,
                                  int32_t channels, gi_tensor **out);

/**
 * Borrow caller memory as a tensor: no copy, the caller keeps ownership and
 * must keep `data` alive and unchanged-in-place as long as the tensor is used.
 * `row_stride` is the distance in bytes between the starts of two rows; it
 * must be >= width * channels * element size and a multiple of the element
 * size. The library never touches bytes outside rows [0, height) x
 * [0, width*channels) elements, nor past the last row's last element.
 * The data is written to only when the tensor is used as an output.
 */
GI_API gi_status gi_tensor_wrap(int32_t dtype, int32_t height, int32_t width,
                                int32_t channels, void *data, size_t row_stride,
                                gi_tensor **out);

/** Free a tensor (wrapped memory is not freed). NULL is allowed. */
GI_API void gi_tensor_destroy(gi_tensor *t);

/** Shape getters; any out pointer may be NULL. Returns GI_E_INVALID_ARG on NULL t. */
GI_API gi_status gi_tensor_shape(const gi_tensor *t, int32_t *height,
                                 int32_t *width, int32_t *channels);
/** GI_DTYPE_* of t, or 0 if t is NULL. */
GI_API int32_t gi_tensor_dtype(const gi_tensor *t);
/** Pointer to element (0,0,0), or NULL if t is NULL. */
GI_API void *gi_tensor_data(gi_tensor *t);
/** Row stride in bytes, or 0 if t is NULL. */
GI_API size_t gi_tensor_row_stride(const gi_tensor *t);

/* ------------------------------------------------------------------------ */
/* Image files                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Decode an image file (format detected from its bytes, not its name):
 * PNG and JPEG always; WebP and TIFF when the library was built with them
 * (meson options webp and tiff; otherwise such a file fails with
 * GI_E_UNSUPPORTED and a message naming the option). Gives a new
 * GI_DTYPE_U8 tensor. EXIF orientation (JPEG APP1, PNG eXIf, WebP EXIF,
 * TIFF's Orientation tag) is applied, so the tensor is upright. 16-bit images are reduced to 8 bits
 * (rounded; gi_image_load_ex() can keep them); palette and gray images are
 * expanded as needed.
 * `channels`: 0 = as stored (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA),
 * or 1, 3, 4 to convert (gray = ITU-R BT.601 luma; missing alpha = 255).
 * Images larger than 65535 on a side or 2^28 pixels are refused from the
 * header, before any allocation (GI_E_UNSUPPORTED).
 */
GI_API gi_status gi_image_load(const char *path, int32_t channels,
                               gi_tensor **out);

/**
 * Encode a GI_DTYPE_U8 tensor with 1, 2, 3 or 4 channels. The format follows
 * the file extension: .png, .jpg/.jpeg (alpha is dropped; 2-channel gray+alpha
 * is saved as gray), .webp and .tif/.tiff where built (see gi_image_load).
 * `quality` is the JPEG quality 1..100, 0 = default (95); for WebP 1..100
 * is lossy at that quality and 0 (default) lossless; ignored for PNG and
 * TIFF (lossless, deflate).
 */
GI_API gi_status gi_image_save(const char *path, const gi_tensor *image,
                               int32_t quality);

/* Flags of gi_image_load_ex(). */
#define GI_LOAD_16BIT 1 /* keep 16-bit samples (PNG, TIFF): GI_DTYPE_U16 */

/** The metadata blocks of an image file, carried from input to output. */
typedef struct gi_metadata gi_metadata;

/* Kinds of metadata block (append-only). */
#define GI_META_EXIF 1 /* EXIF as a TIFF block ("II*\0" or "MM\0*"); its
                          orientation tag reads 1 once gi_image_load_ex()
                          has turned the pixels upright */
#define GI_META_ICC 2  /* ICC colour profile */

/**
 * gi_image_load() with more: `flags` (GI_LOAD_*; 0 = as gi_image_load()),
 * and, when `meta` is not NULL, the file's EXIF and ICC profile in a new
 * *meta (yours to destroy; a file without either gives an empty one).
 * With GI_LOAD_16BIT a 16-bit PNG or TIFF gives a GI_DTYPE_U16 tensor,
 * samples 0..65535 in native byte order; 8-bit files still give
 * GI_DTYPE_U8. `channels` converts either.
 */
GI_API gi_status gi_image_load_ex(const char *path, int32_t channels,
                                  int32_t flags, gi_tensor **out,
                                  gi_metadata **meta);

/**
 * gi_image_save() with more: a GI_DTYPE_U16 tensor is written with 16-bit
 * samples to .png and .tif/.tiff; JPEG and WebP hold only 8 bits, so a
 * GI_DTYPE_U16 tensor fails there with GI_E_UNSUPPORTED rather than being
 * cut. `meta` (NULL: none) is written where the format holds it: PNG iCCP
 * and eXIf, JPEG APP2 (ICC) and APP1 (EXIF up to 65527 bytes), WebP ICCP
 * and EXIF, TIFF ICC profile (TIFF's EXIF is not written). The ICC profile
 * is written only when its colour space is the output's (GRAY for grey,
 * RGB otherwise; WebP is always RGB): a CMYK JPEG's profile does not follow
 * its pixels once they are RGB.
 */
GI_API gi_status gi_image_save_ex(const char *path, const gi_tensor *image,
                                  int32_t quality, const gi_metadata *meta);

/**
 * One block of `meta` (GI_META_*): *data and *size point into meta (valid
 * until it is destroyed), NULL and 0 when the file had none.
 */
GI_API gi_status gi_metadata_get(const gi_metadata *meta, int32_t kind,
                                 const void **data, size_t *size);

/** Free metadata. NULL is allowed. */
GI_API void gi_metadata_destroy(gi_metadata *meta);

/**
 * Turn a decoded mask image into the 1-channel mask gi_inpaint() wants:
 * if the image has an alpha channel (2 or 4 channels) that is not uniform,
 * the alpha is the mask (painted = opaque); otherwise the maximum of the
 * colour channels is. Values are copied, not binarised (> 127 = hole).
 */
GI_API gi_status gi_image_to_mask(const gi_tensor *image, gi_tensor **out);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct gi_model gi_model;

/**
 * Load a GGUF v3 model file (see docs/MODEL_FORMAT.md). The file is fully
 * validated; a malformed file yields GI_E_BAD_MODEL and a message. The file
 * is not kept open. `*out` has one reference; drop it with gi_model_release().
 */
GI_API gi_status gi_model_load_file(const char *path, gi_model **out);

/** As gi_model_load_file() from memory; `data` is only read during the call. */
GI_API gi_status gi_model_load_memory(const void *data, size_t size,
                                      gi_model **out);

/**
 * Load the default model embedded in the library. Returns GI_E_UNSUPPORTED
 * when this build carries no embedded model.
 */
GI_API gi_status gi_model_load_default(gi_model **out);

/** Add a reference (thread-safe). Returns m. */
GI_API gi_model *gi_model_retain(gi_model *m);
/** Drop a reference; frees the model when the last one goes. NULL allowed. */
GI_API void gi_model_release(gi_model *m);

/* Model properties (append-only). */
#define GI_MODEL_FAMILY 1         /* string: "deepfill_v2"                 */
#define GI_MODEL_NAME 2           /* string: general.name                  */
#define GI_MODEL_LICENSE 3        /* string: general.license               */
#define GI_MODEL_SOURCE_URL 4     /* string: general.source_url ("" if none) */
#define GI_MODEL_CHANNEL_ORDER 5  /* string: "rgb" or "bgr" (network side)  */
#define GI_MODEL_WIDTH 16         /* int: cnum (48 for the official weights) */
#define GI_MODEL_GUIDE_CHANNELS 17 /* int: 0 or 1                          */
#define GI_MODEL_ARCH_VERSION 18  /* int                                   */
#define GI_MODEL_PARAM_COUNT 19   /* int: number of weights and biases     */
#define GI_MODEL_INPUT_FILL 6     /* string: how holes enter stage 1: "zeros"
                                     (official), "pushpull",
                                     "guided_pushpull" (colour does not
                                     cross the guide's lines) or "ring_warp"
                                     (outlines moved to the guide's lines;
                                     docs/ENGINE.md) */
#define GI_MODEL_RESIDUAL 20      /* int: 1 if each stage predicts a
                                     correction to its input image, else 0 */
#define GI_MODEL_WORKING_SIZE 21  /* int: the window side, in network pixels,
                                     the model fills best at
                                     (gatedinpaint.working_size; 512 if the
                                     file does not say); GI_STRATEGY_REGIONS
                                     scales each region's window to it */

/** String property; the string lives as long as the model. */
GI_API gi_status gi_model_get_string(const gi_model *m, int32_t prop,
                                     const char **out);
/** Integer property. */
GI_API gi_status gi_model_get_int(const gi_model *m, int32_t prop,
                                  int64_t *out);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct gi_session gi_session;

/**
 * Create a session over a model (the session holds a reference to it). A
 * session owns its scratch memory and reuses it between calls of the same
 * size. Use from one thread at a time.
 */
GI_API gi_status gi_session_create(gi_model *model, gi_session **out);
/** Destroy a session and its scratch memory. NULL allowed. */
GI_API void gi_session_destroy(gi_session *s);

/* Session options (append-only). */
#define GI_OPT_NUM_THREADS 1 /* int >= 0; 0 = all cores (default)          */
#define GI_OPT_MAX_ISA 2     /* GI_ISA_* cap; default GI_ISA_BEST            */
#define GI_OPT_ISA 3         /* read-only: the instruction set in use        */
/* Resource limits, checked before anything is allocated:
 * GI_OPT_MAX_PIXELS: the largest image gi_inpaint() accepts, as height x
 *   width pixels; larger images fail with GI_E_UNSUPPORTED and a message
 *   naming the size and the limit. The gi_op_* functions apply it to their
 *   feature maps. Default 67108864 (2^26, e.g. 8192 x 8192); 0 = the
 *   library's own ceiling, 2^32. Values above the ceiling are refused.
 * GI_OPT_MEM_LIMIT: the most working memory, in bytes, one call on this
 *   session may need (the session's scratch arena, or the temporaries of a
 *   gi_op_* call; not the caller's tensors, not the model's weights). A call
 *   that would need more fails with GI_E_NOMEM and a message giving both
 *   figures, before allocating. Default: the machine's physical memory;
 *   0 = no limit. Lowering it below what the session holds frees the
 *   session's arena. With GI_STRATEGY_EXACT working memory grows about
 *   linearly with the pixel count: about 450 bytes per pixel at the
 *   official width 48 (1920 x 1080 needs 850 MiB); with
 *   GI_STRATEGY_REGIONS it follows the largest region's window, not the
 *   photo. The error message says how much a call needs. */
#define GI_OPT_MAX_PIXELS 4  /* int >= 0, pixels; default 2^26              */
#define GI_OPT_MEM_LIMIT 5   /* int >= 0, bytes; default physical memory    */
/* GI_OPT_STRATEGY: how gi_inpaint() runs the network.
 * GI_STRATEGY_REGIONS (default): the holes are grouped into regions; each
 *   gets a context window sized from its holes, shrunk to the model's
 *   working size (GI_MODEL_WORKING_SIZE) when it is larger, filled on its
 *   own and pasted back into the hole pixels only. Time and memory follow
 *   the holes, not the photo (docs/ENGINE.md, "Strategies").
 * GI_STRATEGY_EXACT: the whole image through the network at full
 *   resolution: the official graph, bit for bit; time and memory grow with
 *   the image. */
#define GI_OPT_STRATEGY 6    /* GI_STRATEGY_*; default GI_STRATEGY_REGIONS   */
#define GI_OPT_LAST_REGIONS 7 /* read-only: network passes of the last
                                 successful gi_inpaint() (0: empty mask)    */
#define GI_OPT_LAST_SCALE 8  /* read-only: the largest factor the last call
                                shrank a region by (1 = full resolution)    */
#define GI_STRATEGY_REGIONS 0
#define GI_STRATEGY_EXACT 1

/* Instruction-set tiers, ordered: a cap allows every tier <= it. */
#define GI_ISA_SCALAR 0
#define GI_ISA_NEON 10
#define GI_ISA_AVX2 20
#define GI_ISA_AVX512 30
#define GI_ISA_BEST 1000

GI_API gi_status gi_session_set_int(gi_session *s, int32_t option,
                                    int64_t value);
GI_API gi_status gi_session_get_int(const gi_session *s, int32_t option,
                                    int64_t *value);

/**
 * Progress callback: `done` grows from 0 to 1 over one gi_inpaint() call;
 * `stage` is a static name such as "coarse", "refine", "attention". Called on
 * the thread that called gi_inpaint(). Return 0 to continue, non-zero to
 * cancel: gi_inpaint() then returns GI_E_CANCELLED, `out` is left unchanged
 * and the session stays usable.
 */
typedef int32_t (*gi_progress_fn)(void *user, float done, const char *stage);

/** Install (or with fn = NULL remove) the progress callback. */
GI_API gi_status gi_session_set_progress(gi_session *s, gi_progress_fn fn,
                                         void *user);

/* ------------------------------------------------------------------------ */
/* Inpainting                                                                */
/* ------------------------------------------------------------------------ */

/**
 * The mask rule. Every function that takes a mask (gi_inpaint,
 * gi_mask_normalize, gi_mask_dilate, gi_blend_feather), the CLI and the
 * bindings read a 1-channel GI_DTYPE_U8 mask the same way: if its largest
 * value is 1 (a 0/1 mask, as numpy and OpenCV code writes), every non-zero
 * value is a hole; otherwise every value > 127 is (white on black). A mask
 * of zeros has no hole.
 */

/**
 * Fill the holes of `image`.
 *  image: GI_DTYPE_U8 or GI_DTYPE_U16, 1 (grey), 2 (grey+alpha), 3 (RGB) or
 *         4 (RGBA) channels, any size >= 16x16. The network sees 8-bit RGB:
 *         grey replicated, 16-bit samples rounded to 8 bits; the fill comes
 *         back as luma for grey and x257 for 16 bits (the two need a
 *         temporary 8-bit RGB(A) copy, outside GI_OPT_MEM_LIMIT).
 *  mask:  GI_DTYPE_U8, 1 channel, same height/width; holes by the mask
 *         rule (above).
 *  guide: NULL, or GI_DTYPE_U8 1 channel, same height/width: a sketch of the
 *         edges wanted inside the hole (value > 153 = edge), only for models
 *         with GI_MODEL_GUIDE_CHANNELS = 1 (else GI_E_INVALID_ARG).
 *  out:   same dtype and shape as image; may be the same tensor as image.
 * Pixels outside the hole are copied bit-identical; alpha is copied. Sides
 * that are not multiples of 8 are mirror-padded at the bottom/right for the
 * network and cut back. An empty mask copies the image. GI_OPT_STRATEGY
 * chooses between per-region windows (default) and the exact whole-image
 * graph; `out` is written only when the call succeeds.
 */
GI_API gi_status gi_inpaint(gi_session *s, const gi_tensor *image,
                            const gi_tensor *mask, const gi_tensor *guide,
                            gi_tensor *out);

/* ------------------------------------------------------------------------ */
/* Masks and compositing (since 0.1.0)                                       */
/* ------------------------------------------------------------------------ */

/**
 * The mask rule (see gi_inpaint) applied to a 1-channel GI_DTYPE_U8 mask
 * (for instance from gi_image_to_mask()): writes a new 1-channel tensor of
 * 0 (keep) and 255 (hole) to *out (yours to destroy). Errors: NULL arguments or another dtype
 * (GI_E_INVALID_ARG), another channel count (GI_E_SHAPE).
 */
GI_API gi_status gi_mask_normalize(const gi_tensor *mask, gi_tensor **out);

/**
 * Grow the holes (the mask rule) of a 1-channel GI_DTYPE_U8 mask in place by
 * `radius` pixels with a square: a pixel becomes a hole when a hole lies
 * within `radius` pixels both horizontally and vertically (Chebyshev
 * distance). The result is 0/255; radius 0 only binarises. Errors: NULL,
 * another dtype or a negative radius (GI_E_INVALID_ARG), another channel
 * count (GI_E_SHAPE).
 */
GI_API gi_status gi_mask_dilate(gi_tensor *mask, int32_t radius);

/**
 * Composite `filled` over `image` with a soft band outside the hole:
 *   out = alpha * filled + (1 - alpha) * image, rounded, every channel,
 * where alpha is 1 in the hole (the mask rule) and, at Euclidean distance d
 * from the nearest hole pixel, 1 - d / radius for d < radius and 0 beyond.
 * Pixels at distance >= radius are copied from `image` bit-identical;
 * radius 0 is a hard composite. `filled` must hold useful pixels in the
 * band: inpaint with the mask dilated by `radius` (gi_mask_dilate) first.
 * image, filled, out: one dtype, GI_DTYPE_U8 or GI_DTYPE_U16, same shape
 * (1 to 4 channels); mask:
 * 1 channel, same height and width; out may be image or filled. Errors:
 * NULL, another dtype or a negative radius (GI_E_INVALID_ARG), mismatched
 * shapes (GI_E_SHAPE), no memory for the distance map (GI_E_NOMEM).
 */
GI_API gi_status gi_blend_feather(const gi_tensor *image, const gi_tensor *mask,
                                  const gi_tensor *filled, int32_t radius,
                                  gi_tensor *out);

/* ------------------------------------------------------------------------ */
/* EXPERIMENTAL: kernel-level operations                                     */
/* ------------------------------------------------------------------------ */
/*
 * The building blocks of the networks (one gated convolution, one contextual
 * attention), exposed for tests and research. Outside the stability promise
 * of docs/ABI.md: their signatures, values and behaviour may change in a
 * minor release, and a program that uses them should check gi_version().
 * The symbols stay exported (removing them would change the soname), but
 * new code built on the stable API above needs none of them.
 */

/* Activations for gi_op_gated_conv2d. */
#define GI_ACT_NONE 0      /* raw convolution, all cconv channels          */
#define GI_ACT_ELU_GATED 1 /* ELU(first half) * sigmoid(second half)       */
#define GI_ACT_RELU_GATED 2 /* ReLU(first half) * sigmoid(second half)     */
#define GI_ACT_TANH 3      /* tanh of the raw convolution                  */

/**
 * One convolution layer with TensorFlow 'SAME' zero padding
 * (pad_total = max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0), the smaller half at
 * the top/left) and the activation `act`.
 *  input:  GI_DTYPE_F32, H x W x cin.
 *  weight: cconv x cin x k x k floats (OIHW, PyTorch layout); bias: cconv.
 *  upsample2x: 0, or 1 to apply nearest x2 upsampling to the input first
 *              (the conv then sees 2H x 2W).
 *  output: GI_DTYPE_F32, ceil(H'/stride) x ceil(W'/stride) x cout where H',W'
 *          are the (upsampled) input sizes and cout = cconv/2 for the gated
 *          activations (cconv must then be even), cconv otherwise.
 * Runs on the session's threads and ISA.
 */
GI_API gi_status gi_op_gated_conv2d(gi_session *s, const gi_tensor *input,
                                    const float *weight, const float *bias,
                                    int32_t cconv, int32_t kernel,
                                    int32_t stride, int32_t dilation,
                                    int32_t act, int32_t upsample2x,
                                    gi_tensor *output);

/**
 * DeepFill v2 contextual attention with f = b = features (patch size 3 for
 * matching on the x2-downscaled map, 4x4 patches stride 2 for pasting,
 * rate 2), exactly as the official graph computes it.
 *  features: GI_DTYPE_F32, h x w x C, h and w even.
 *  mask:     GI_DTYPE_F32 h x w x 1 (1 = hole), or NULL for no hole.
 *  fuse:     1 = the official 3x3 score fusion, 0 = none.
 *  softmax_scale: 10 in the official model.
 *  output:   GI_DTYPE_F32, h x w x C.
 */
GI_API gi_status gi_op_contextual_attention(gi_session *s,
                                            const gi_tensor *features,
                                            const gi_tensor *mask, int32_t fuse,
                                            float softmax_scale,
                                            gi_tensor *output);

/* ------------------------------------------------------------------------ */
/* EXPERIMENTAL: watching the network (the gate viewer)                      */
/* ------------------------------------------------------------------------ */
/*
 * Outside the stability promise like the gi_op_* functions above. With an
 * observer installed, gi_inpaint() hands it intermediate maps of the network
 * as it runs:
 *  - "gate" maps of a gated convolution (family deepfill_v2): the sigmoid
 *    gate in [0, 1] of each output channel at each pixel of the layer, for
 *    every gated layer (all but the two tanh output layers). Computing them
 *    runs each observed convolution a second time; the result of the call is
 *    bit-identical to a call without an observer.
 *  - "mask" maps of a partial convolution (family pconv_unet): the layer's
 *    updated mask, 1 where its window had a valid input, else 0; one
 *    channel (the mask is the same for every output channel).
 * Maps are in network pixels at the layer's resolution: the network input is
 * the image padded bottom/right to the family's multiple (net_h x net_w) in
 * GI_STRATEGY_EXACT; with GI_STRATEGY_REGIONS each pass is a (shrunk) window
 * of the image, numbered by `pass`. Without an observer nothing is computed
 * (one pointer test per layer).
 */
typedef struct gi_map_info {
    const char *layer;    /* the layer's name in the model file ("conv2_downsample", "enc_3") */
    const char *kind;     /* "gate" or "mask" */
    int32_t index;        /* order of the map within its pass, from 0 */
    int32_t pass;         /* network pass of this gi_inpaint() call, from 0 */
    int32_t h, w, c;      /* the map: h x w pixels, c channels, HWC floats */
    int32_t net_h, net_w; /* the pass's network input size */
} gi_map_info;

/** Called with each map; `data` (info->h * w * c floats) is valid only during
 *  the call. Return 0 to go on, non-zero to cancel gi_inpaint() (it returns
 *  GI_E_CANCELLED). */
typedef int32_t (*gi_map_observer_fn)(void *user, const gi_map_info *info,
                                      const float *data);

/** Install (or with fn = NULL remove) the map observer. */
GI_API gi_status gi_session_set_map_observer(gi_session *s, gi_map_observer_fn fn,
                                             void *user);

#ifdef __cplusplus
}
#endif

#endif /* GATEDINPAINT_H */
