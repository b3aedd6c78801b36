/* libFuzzer target for the inpainting API: the first bytes choose an
 * argument combination (sizes, channels, dtypes, row strides, mask and
 * guide shapes, in-place, threads, resource limits, cancellation), the rest
 * fill the pixels; or they drive the kernel-level ops. Every call must end
 * with GI_OK or a documented error that has a message. On success pixels
 * outside the hole and alpha must be copied exactly and no byte outside the
 * tensors may change. Buffers are allocated to the exact byte so ASan sees
 * any read past a tensor. Models: width 4 from the test GGUF builder. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../model/gguf_builder.h"
#include "gatedinpaint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRAP_UNLESS(c)               \
    do {                             \
        if (!(c)) __builtin_trap();  \
    } while (0)

static gi_model *models[2]; /* without and with a guide channel */
static gi_session *sessions[2];

static gi_model *make_model(int guide) {
    tb_file *f = tb_model(4, guide, 0);
    size_t n;
    uint8_t *d = tb_serialize(f, &n, NULL);
    gi_model *m = NULL;
    TRAP_UNLESS(gi_model_load_memory(d, n, &m) == GI_OK);
    free(d);
    tb_free(f);
    return m;
}

static void init(void) {
    if (models[0]) return;
    for (int g = 0; g < 2; g++) {
        models[g] = make_model(g);
        TRAP_UNLESS(gi_session_create(models[g], &sessions[g]) == GI_OK);
    }
}

/* Input bytes: parameters first, then a pixel source. */
typedef struct {
    const uint8_t *p;
    size_t n, i;
} src;

static uint8_t byte(src *s) { return s->i < s->n ? s->p[s->i++] : 0; }

/* Pixel bytes cycle through what is left of the input. */
static void fill(src *s, uint8_t *dst, size_t n) {
    size_t left = s->n - s->i;
    for (size_t k = 0; k < n; k++) dst[k] = left ? s->p[s->i + k % left] : (uint8_t)(k * 7);
}

/* A tensor in caller memory of exactly (h-1)*stride + w*c*es bytes; the
 * stride pad is filled with 0xA5 to detect writes. */
typedef struct {
    gi_tensor *t;
    uint8_t *mem;
    size_t size, stride, row;
    int h;
} buf;

static int make_buf(buf *b, int32_t dtype, int h, int w, int c, size_t pad) {
    memset(b, 0, sizeof *b);
    size_t es = dtype == GI_DTYPE_F32 ? 4 : dtype == GI_DTYPE_U16 ? 2 : 1;
    b->row = (size_t)w * (size_t)c * es;
    b->stride = b->row + pad * es;
    b->size = (size_t)(h - 1) * b->stride + b->row;
    b->h = h;
    b->mem = malloc(b->size);
    if (!b->mem) return -1;
    memset(b->mem, 0xA5, b->size);
    gi_status st = gi_tensor_wrap(dtype, h, w, c, b->mem, b->stride, &b->t);
    return st == GI_OK ? 0 : -1;
}

static void free_buf(buf *b) {
    gi_tensor_destroy(b->t);
    free(b->mem);
}

static int pads_intact(const buf *b) {
    for (int y = 0; y + 1 < b->h; y++)
        for (size_t x = b->row; x < b->stride; x++)
            if (b->mem[(size_t)y * b->stride + x] != 0xA5) return 0;
    return 1;
}

static int cancel_at, calls;
static int32_t on_progress(void *user, float done, const char *stage) {
    (void)user;
    TRAP_UNLESS(done >= 0.0f && done <= 1.0f && stage && *stage);
    return ++calls == cancel_at;
}

static void check_error(gi_status st) {
    TRAP_UNLESS(st == GI_E_INVALID_ARG || st == GI_E_SHAPE || st == GI_E_UNSUPPORTED ||
                st == GI_E_NOMEM || st == GI_E_CANCELLED);
    TRAP_UNLESS(gi_last_error()[0] != '\0');
}

static void fuzz_inpaint(src *s) {
    int h = 1 + byte(s) % 56, w = 1 + byte(s) % 56;
    uint8_t b3 = byte(s), b4 = byte(s), b5 = byte(s), b6 = byte(s), b7 = byte(s);
    int ic = 1 + b3 % 5;
    int32_t idtype = (b3 >> 4) % 4 == 3   ? GI_DTYPE_F32
                     : (b3 >> 4) % 4 == 2 ? GI_DTYPE_U16 /* 16-bit images */
                                           : GI_DTYPE_U8;
    int mc = (b4 & 3) == 3 ? 3 : 1;
    int dh = (b4 >> 2) & 3; /* mask height: same, one more, one less */
    int mh = dh == 1 ? h + 1 : dh == 2 && h > 1 ? h - 1 : h;
    int mw = w - (((b4 >> 4) & 1) && w > 1);
    int mask_kind = (b4 >> 5) & 3; /* 0 data, 1 empty, 2 all hole, 3 data */
    int oc = (b4 >> 7) ? ic : (ic == 3 ? 4 : 3);
    if ((b6 >> 7) == 0) oc = ic; /* mostly matching */
    size_t ipad = b5 & 15, mpad = b5 >> 4, opad = b6 & 15;
    int with_guide = (b6 >> 4) & 1, guide_model = (b6 >> 5) & 1, in_place = (b6 >> 6) & 1;
    int threads = 1 + (b7 & 1);
    int pix_choice = (b7 >> 1) & 7, mem_choice = (b7 >> 4) & 3;
    cancel_at = byte(s) % 64;
    calls = 0;

    gi_session *ss = sessions[guide_model];
    int64_t hw = (int64_t)h * w;
    static const int64_t mem_limits[4] = {-1, 1, 1 << 20, 0};
    int64_t max_pixels = pix_choice == 1 ? 255 : pix_choice == 2 ? hw - 1 : pix_choice == 3 ? hw
                       : pix_choice == 4 ? 0 : (int64_t)1 << 26;
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_NUM_THREADS, threads) == GI_OK);
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MAX_PIXELS, max_pixels < 0 ? 0 : max_pixels) ==
                GI_OK);
    if (mem_limits[mem_choice] >= 0)
        TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MEM_LIMIT, mem_limits[mem_choice]) == GI_OK);
    else
        TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MEM_LIMIT, (int64_t)1 << 40) == GI_OK);
    TRAP_UNLESS(gi_session_set_progress(ss, cancel_at ? on_progress : NULL, NULL) == GI_OK);

    buf im, mk, gd = {0}, out = {0};
    if (make_buf(&im, idtype, h, w, ic, ipad) || make_buf(&mk, GI_DTYPE_U8, mh, mw, mc, mpad)) {
        free_buf(&im);
        return;
    }
    if (with_guide && make_buf(&gd, GI_DTYPE_U8, h, w, 1, 0)) goto done;
    if (!in_place && make_buf(&out, GI_DTYPE_U8, h, w, oc, opad)) goto done;
    for (int y = 0; y < h; y++) fill(s, im.mem + (size_t)y * im.stride, im.row);
    if (idtype == GI_DTYPE_F32) /* finite floats whatever the bytes */
        for (int y = 0; y < h; y++)
            for (size_t x = 0; x < im.row / 4; x++) {
                float v = (float)im.mem[(size_t)y * im.stride + 4 * x] / 255.0f;
                memcpy(im.mem + (size_t)y * im.stride + 4 * x, &v, 4);
            }
    for (int y = 0; y < mh; y++) {
        uint8_t *r = mk.mem + (size_t)y * mk.stride;
        if (mask_kind == 1 || mask_kind == 2)
            memset(r, mask_kind == 2 ? 255 : 0, mk.row);
        else
            fill(s, r, mk.row);
    }
    if (with_guide)
        for (int y = 0; y < h; y++) fill(s, gd.mem + (size_t)y * gd.stride, gd.row);

    size_t copy_size = im.size;
    uint8_t *before = malloc(copy_size);
    if (!before) goto done;
    memcpy(before, im.mem, copy_size);
    gi_tensor *o = in_place ? im.t : out.t;
    gi_status st = gi_inpaint(ss, im.t, mk.t, with_guide ? gd.t : NULL, o);
    if (st != GI_OK) {
        check_error(st);
        TRAP_UNLESS(memcmp(before, im.mem, copy_size) == 0); /* failures write nothing */
        for (size_t i = 0; i < out.size; i++) TRAP_UNLESS(out.mem[i] == 0xA5);
    } else {
        /* Only valid combinations succeed: 8- or 16-bit grey, grey+alpha, RGB or
         * RGBA, an output of the image's type and channels. */
        TRAP_UNLESS((idtype == GI_DTYPE_U8 || idtype == GI_DTYPE_U16) && ic >= 1 && ic <= 4 &&
                    h >= 16 && w >= 16 && mh == h && mw == w && mc == 1 &&
                    (in_place || (idtype == GI_DTYPE_U8 && oc == ic)));
        /* The mask rule (gatedinpaint.h): largest value 1 -> non-zero is a hole. */
        uint8_t top = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mk.mem[(size_t)y * mk.stride + x] > top) top = mk.mem[(size_t)y * mk.stride + x];
        const int threshold = top == 1 ? 0 : 127;
        const size_t px = (size_t)ic * (idtype == GI_DTYPE_U16 ? 2 : 1);
        const size_t alpha = (ic == 2 || ic == 4) ? px / (size_t)ic : 0; /* alpha's bytes */
        const buf *ob = in_place ? &im : &out;
        for (int y = 0; y < h; y++) {
            const uint8_t *a = before + (size_t)y * im.stride;
            const uint8_t *b = ob->mem + (size_t)y * ob->stride;
            const uint8_t *m = mk.mem + (size_t)y * mk.stride;
            for (int x = 0; x < w; x++) {
                if (m[x] <= threshold) TRAP_UNLESS(memcmp(a + x * px, b + x * px, px) == 0);
                else if (alpha)
                    TRAP_UNLESS(memcmp(a + (x + 1) * px - alpha, b + (x + 1) * px - alpha,
                                       alpha) == 0);
            }
        }
        TRAP_UNLESS(pads_intact(ob));
    }
    TRAP_UNLESS(pads_intact(&im) && pads_intact(&mk));
    free(before);
done:
    free_buf(&im);
    free_buf(&mk);
    free_buf(&gd);
    free_buf(&out);
}

static void fuzz_conv(src *s) {
    gi_session *ss = sessions[0];
    int h = 1 + byte(s) % 12, w = 1 + byte(s) % 12, cin = 1 + byte(s) % 6;
    int cconv = byte(s) % 9, k = byte(s) % 8, stride = byte(s) % 4, dil = byte(s) % 4;
    uint8_t b = byte(s);
    int act = b % 6 - 1, up = (b >> 3) % 3, wrong = (b >> 5) & 3; /* 1, 2: bad output */
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_NUM_THREADS, 1 + (b >> 7)) == GI_OK);
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MEM_LIMIT, (int64_t)1 << 40) == GI_OK);
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MAX_PIXELS, 0) == GI_OK);
    int u = up == 1 ? 2 : 1, st_ = stride > 0 ? stride : 1;
    int oh = (h * u + st_ - 1) / st_ + (wrong == 1), ow = (w * u + st_ - 1) / st_;
    int gated = act == GI_ACT_ELU_GATED || act == GI_ACT_RELU_GATED;
    int oc = cconv < 1 ? 1 : gated ? (cconv / 2 > 0 ? cconv / 2 : 1) : cconv;
    if (wrong == 2) oc++;
    buf in, out;
    if (make_buf(&in, GI_DTYPE_F32, h, w, cin, 0)) return;
    if (make_buf(&out, GI_DTYPE_F32, oh, ow, oc, 0)) {
        free_buf(&in);
        return;
    }
    size_t nw = (size_t)(cconv > 0 ? cconv : 1) * cin * (k > 0 ? k : 1) * (k > 0 ? k : 1);
    float *wt = malloc(nw * sizeof *wt), *bias = malloc(9 * sizeof *bias);
    float *x = (float *)in.mem;
    for (size_t i = 0; i < nw && wt; i++) wt[i] = (float)(i * 37 % 17) / 17.0f - 0.5f;
    for (int i = 0; i < 9 && bias; i++) bias[i] = 0.1f * (float)i;
    for (size_t i = 0; i < (size_t)h * w * cin; i++)
        x[i] = (float)byte(s) / 128.0f - 1.0f;
    if (wt && bias) {
        gi_status st = gi_op_gated_conv2d(ss, in.t, wt, bias, cconv, k, stride, dil, act, up,
                                          out.t);
        if (st != GI_OK) check_error(st);
        else TRAP_UNLESS(cconv >= 1 && k >= 1 && stride >= 1 && dil >= 1 && up <= 1 &&
                         wrong != 1 && wrong != 2);
    }
    free(wt);
    free(bias);
    free_buf(&in);
    free_buf(&out);
}

static void fuzz_attention(src *s) {
    gi_session *ss = sessions[0];
    uint8_t b0 = byte(s), b1 = byte(s), b2 = byte(s);
    int h = 1 + b0 % 14, w = 1 + b1 % 14, c = 1 + b2 % 8;
    int fuse = (b2 >> 3) & 1, with_mask = (b2 >> 4) & 1, same = (b2 >> 7) & 1;
    static const float scales[4] = {10.0f, 0.0f, -1.0f, 1e7f};
    float scale = scales[(b2 >> 5) & 3];
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_NUM_THREADS, 1 + (b0 >> 7)) == GI_OK);
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MEM_LIMIT, (int64_t)1 << 40) == GI_OK);
    TRAP_UNLESS(gi_session_set_int(ss, GI_OPT_MAX_PIXELS, 0) == GI_OK);
    buf f, y, m = {0};
    if (make_buf(&f, GI_DTYPE_F32, h, w, c, 0)) return;
    if (make_buf(&y, GI_DTYPE_F32, h, w, c, 0) ||
        (with_mask && make_buf(&m, GI_DTYPE_F32, h, w, 1, 0))) {
        free_buf(&f);
        free_buf(&y);
        return;
    }
    float *fv = (float *)f.mem;
    for (size_t i = 0; i < (size_t)h * w * c; i++) fv[i] = (float)byte(s) / 128.0f - 1.0f;
    if (with_mask) {
        float *mv = (float *)m.mem;
        for (size_t i = 0; i < (size_t)h * w; i++) mv[i] = (float)(byte(s) & 1);
    }
    gi_status st = gi_op_contextual_attention(ss, f.t, with_mask ? m.t : NULL, fuse, scale,
                                              same ? f.t : y.t);
    if (st != GI_OK) {
        check_error(st);
    } else {
        TRAP_UNLESS(h % 2 == 0 && w % 2 == 0 && scale > 0.0f && scale < 1e6f && !same);
        const float *yv = (const float *)y.mem;
        for (size_t i = 0; i < (size_t)h * w * c; i++) TRAP_UNLESS(isfinite(yv[i]));
    }
    free_buf(&f);
    free_buf(&y);
    free_buf(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    init();
    src s = {data, size, 0};
    switch (byte(&s) & 3) {
    case 0:
    case 1: fuzz_inpaint(&s); break;
    case 2: fuzz_conv(&s); break;
    default: fuzz_attention(&s); break;
    }
    return 0;
}
