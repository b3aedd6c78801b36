/* Kernel tests: every kernel table this machine can run, against naive
 * loops written straight from docs/DEEPFILL_V2.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/dispatch.h"
#include "graph/attention.h"
#include "graph/fill.h"
#include "kernels/kernels.h"
#include "../common/check.h"



static uint64_t rng = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}
static int irand(int n) { return (int)((frand() + 1.0f) * 0.5f * n) % n; }

static float *rand_buf(size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
    return p;
}

/* ---- convolution ------------------------------------------------------ */

static double act_ref(int act, double f, double g) {
    double s = 1.0 / (1.0 + exp(-g));
    switch (act) {
    case GI_ACT_ELU_GATED: return (f > 0 ? f : expm1(f)) * s;
    case GI_ACT_RELU_GATED: return (f > 0 ? f : 0) * s;
    case GI_ACT_TANH: return tanh(f);
    default: return f;
    }
}

/* TF SAME, nearest x2 upsampling as pixel replication, double accumulation. */
static void conv_naive(const gi_conv_shape *sh, const float *in, const float *w,
                       const float *b, double *out) {
    int uh = sh->in_h * sh->up, uw = sh->in_w * sh->up;
    for (int oy = 0; oy < sh->out_h; oy++)
        for (int ox = 0; ox < sh->out_w; ox++) {
            double acc[256]; /* cconv <= 256 */
            for (int co = 0; co < sh->cconv; co++) {
                double s = b[co];
                for (int ky = 0; ky < sh->k; ky++)
                    for (int kx = 0; kx < sh->k; kx++) {
                        int iy = oy * sh->stride - sh->pad_top + ky * sh->dil;
                        int ix = ox * sh->stride - sh->pad_left + kx * sh->dil;
                        if (iy < 0 || iy >= uh || ix < 0 || ix >= uw) continue;
                        const float *px =
                            in + ((size_t)(iy / sh->up) * sh->in_w + ix / sh->up) * sh->in_pstride;
                        for (int ci = 0; ci < sh->cin; ci++)
                            s += (double)px[ci] *
                                 w[(((size_t)co * sh->cin + ci) * sh->k + ky) * sh->k + kx];
                    }
                acc[co] = s;
            }
            for (int j = 0; j < sh->cout; j++)
                out[((size_t)oy * sh->out_w + ox) * sh->cout + j] =
                    act_ref(sh->act, acc[j], sh->cout < sh->cconv ? acc[sh->cout + j] : 0);
        }
}

static void shape_for(gi_conv_shape *sh, int in_h, int in_w, int cin, int up, int k,
                      int stride, int dil, int cconv, int act, int extra_ps) {
    memset(sh, 0, sizeof *sh);
    int eh = in_h * up, ew = in_w * up, keff = (k - 1) * dil + 1;
    sh->in_h = in_h, sh->in_w = in_w, sh->cin = cin, sh->in_pstride = cin + extra_ps;
    sh->up = up, sh->k = k, sh->stride = stride, sh->dil = dil;
    sh->out_h = (eh + stride - 1) / stride, sh->out_w = (ew + stride - 1) / stride;
    int ph = (sh->out_h - 1) * stride + keff - eh, pw = (sh->out_w - 1) * stride + keff - ew;
    sh->pad_top = ph > 0 ? ph / 2 : 0, sh->pad_left = pw > 0 ? pw / 2 : 0;
    sh->cconv = cconv;
    int gated = act == GI_ACT_ELU_GATED || act == GI_ACT_RELU_GATED;
    sh->cout = gated ? cconv / 2 : cconv;
    sh->out_pstride = sh->cout + extra_ps;
    sh->act = act;
}

static void test_conv_case(const gi_kernels *kt, const gi_conv_shape *sh) {
    size_t nin = (size_t)sh->in_h * sh->in_w * sh->in_pstride;
    float *in = rand_buf(nin, 1.0f);
    float *w = rand_buf((size_t)sh->cconv * sh->cin * sh->k * sh->k, 0.5f);
    float *b = rand_buf((size_t)sh->cconv, 0.5f);
    float *packed = malloc(kt->conv_packed_size(sh->cconv, sh->cin, sh->k) * sizeof(float));
    float *scratch = malloc(kt->conv_scratch_size(sh) * sizeof(float));
    size_t nout = (size_t)sh->out_h * sh->out_w * sh->out_pstride;
    float *out = malloc(nout * sizeof *out), *out2 = malloc(nout * sizeof *out2);
    double *ref = malloc((size_t)sh->out_h * sh->out_w * sh->cout * sizeof *ref);
    for (size_t i = 0; i < nout; i++) out[i] = out2[i] = 12345.0f; /* sentinel */
    kt->conv_pack(w, b, sh->cconv, sh->cin, sh->k, packed);
    kt->conv_rows(sh, in, packed, NULL, out, 0, sh->out_h, scratch);
    /* the same rows computed one at a time must give the same bits */
    for (int y = 0; y < sh->out_h; y++) kt->conv_rows(sh, in, packed, NULL, out2, y, y + 1, scratch);
    conv_naive(sh, in, w, b, ref);
    double maxerr = 0;
    int sentinel_ok = 1;
    for (int p = 0; p < sh->out_h * sh->out_w; p++) {
        for (int j = 0; j < sh->cout; j++) {
            double e = fabs(out[(size_t)p * sh->out_pstride + j] - ref[(size_t)p * sh->cout + j]);
            if (e > maxerr) maxerr = e;
        }
        for (int j = sh->cout; j < sh->out_pstride; j++)
            if (out[(size_t)p * sh->out_pstride + j] != 12345.0f) sentinel_ok = 0;
    }
    double tol = 1e-5 * (1 + sh->cin * sh->k * sh->k / 16.0);
    CHECK(maxerr <= tol,
          "%s conv in %dx%dx%d up%d k%d s%d d%d cconv %d act %d: max err %.3g > %.3g", kt->name,
          sh->in_h, sh->in_w, sh->cin, sh->up, sh->k, sh->stride, sh->dil, sh->cconv, sh->act,
          maxerr, tol);
    CHECK(sentinel_ok, "%s conv wrote past cout inside the pixel stride", kt->name);
    CHECK(memcmp(out, out2, nout * sizeof *out) == 0,
          "%s conv: row-split result differs bitwise", kt->name);
    free(in), free(w), free(b), free(packed), free(scratch), free(out), free(out2), free(ref);
}

static void test_conv(const gi_kernels *kt) {
    static const int acts[] = {GI_ACT_NONE, GI_ACT_ELU_GATED, GI_ACT_RELU_GATED, GI_ACT_TANH};
    /* every stride/dilation/upsample the network uses, on awkward sizes */
    for (int up = 1; up <= 2; up++)
        for (int stride = 1; stride <= 2; stride++)
            for (int dil = 1; dil <= 16; dil *= 2)
                for (int k = 3; k <= 5; k += 2) {
                    gi_conv_shape sh;
                    int in_h = 1 + irand(17), in_w = 1 + irand(17);
                    int cin = 1 + irand(19), cconv = 2 * (1 + irand(20));
                    shape_for(&sh, in_h, in_w, cin, up, k, stride, dil, cconv,
                              acts[irand(4)], irand(3));
                    test_conv_case(kt, &sh);
                }
    /* widths 1..17 with 1x1 kernels too */
    for (int wdt = 1; wdt <= 17; wdt++) {
        gi_conv_shape sh;
        shape_for(&sh, 3, wdt, 5, 1, 1 + 2 * irand(3), 1 + irand(2), 1, 6, GI_ACT_ELU_GATED, 0);
        test_conv_case(kt, &sh);
    }
    /* the output layers: 3 channels, tanh */
    gi_conv_shape sh;
    shape_for(&sh, 9, 11, 12, 1, 3, 1, 1, 3, GI_ACT_TANH, 0);
    test_conv_case(kt, &sh);
    /* SIMD blocking: several channel panels with a narrower last one and
     * channel tails (cout 12, 24, 48, 40), several pixel tiles plus a tail,
     * odd cconv over several vectors, taps as one dense run (dil 1, up 1,
     * pixel stride = cin) next to taps in the padding */
    static const int net[][9] = {
        /* in_h in_w cin up k stride dil cconv act */
        {5, 29, 6, 1, 5, 1, 1, 48, GI_ACT_ELU_GATED},
        {6, 23, 24, 1, 3, 1, 1, 24, GI_ACT_RELU_GATED},
        {9, 26, 21, 1, 3, 2, 1, 96, GI_ACT_ELU_GATED},
        {4, 13, 16, 2, 3, 1, 1, 80, GI_ACT_ELU_GATED},
        {7, 19, 35, 1, 3, 1, 2, 192, GI_ACT_ELU_GATED},
        {5, 21, 9, 1, 3, 1, 1, 35, GI_ACT_NONE},
        {6, 20, 12, 1, 3, 1, 1, 3, GI_ACT_TANH},
        {3, 40, 3, 1, 5, 2, 1, 66, GI_ACT_TANH},
    };
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++)
        for (int extra = 0; extra <= 3; extra += 3) {
            const int *c = net[i];
            shape_for(&sh, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], extra);
            test_conv_case(kt, &sh);
        }
}

/* ---- partial convolution ------------------------------------------------- */

/* conv_rows with a scale (partial convolution) against the definition: out = act(taps * scale + bias), 0 where
 * scale is 0; zero padding k/2 as in the PConv U-Net. */
static void test_pconv_case(const gi_kernels *kt, int in_h, int in_w, int cin, int k,
                            int stride, int cout, int act) {
    gi_conv_shape sh;
    shape_for(&sh, in_h, in_w, cin, 1, k, stride, 1, cout, act, 0);
    sh.pad_top = sh.pad_left = k / 2;
    size_t npix = (size_t)sh.out_h * sh.out_w, nout = npix * cout;
    float *in = rand_buf((size_t)in_h * in_w * cin, 1.0f);
    float *w = rand_buf((size_t)cout * cin * k * k, 0.5f), *b = rand_buf((size_t)cout, 0.5f);
    float *scale = rand_buf(npix, 1.0f);
    for (size_t p = 0; p < npix; p++) scale[p] = irand(4) == 0 ? 0.0f : fabsf(scale[p]) + 0.01f;
    float *packed = malloc(kt->conv_packed_size(cout, cin, k) * sizeof(float));
    float *scratch = malloc(kt->conv_scratch_size(&sh) * sizeof(float));
    float *out = malloc(nout * sizeof *out), *out2 = malloc(nout * sizeof *out2);
    kt->conv_pack(w, b, cout, cin, k, packed);
    kt->conv_rows(&sh, in, packed, scale, out, 0, sh.out_h, scratch);
    for (int y = 0; y < sh.out_h; y++) kt->conv_rows(&sh, in, packed, scale, out2, y, y + 1, scratch);
    double maxerr = 0;
    for (int oy = 0; oy < sh.out_h; oy++)
        for (int ox = 0; ox < sh.out_w; ox++)
            for (int co = 0; co < cout; co++) {
                double t = 0;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = oy * stride - k / 2 + ky, ix = ox * stride - k / 2 + kx;
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                        for (int ci = 0; ci < cin; ci++)
                            t += (double)in[((size_t)iy * in_w + ix) * cin + ci] *
                                 w[(((size_t)co * cin + ci) * k + ky) * k + kx];
                    }
                size_t p = (size_t)oy * sh.out_w + ox;
                double v = t * scale[p] + b[co];
                if (act == GI_ACT_RELU) v = v > 0 ? v : 0;
                if (act == GI_ACT_LEAKY_RELU) v = v > 0 ? v : 0.2 * v;
                if (scale[p] == 0.0f) v = 0;
                double e = fabs(out[p * cout + co] - v);
                if (scale[p] == 0.0f && out[p * cout + co] != 0.0f) e = 1; /* exactly 0 */
                if (e > maxerr) maxerr = e;
            }
    double tol = 1e-5 * (1 + cin * k * k / 16.0);
    CHECK(maxerr <= tol, "%s pconv in %dx%dx%d k%d s%d cout %d act %d: max err %.3g > %.3g",
          kt->name, in_h, in_w, cin, k, stride, cout, act, maxerr, tol);
    CHECK(memcmp(out, out2, nout * sizeof *out) == 0, "%s pconv: row-split result differs",
          kt->name);
    free(in), free(w), free(b), free(scale), free(packed), free(scratch), free(out), free(out2);
}

static void test_pconv(const gi_kernels *kt) {
    static const int acts[] = {GI_ACT_NONE, GI_ACT_RELU, GI_ACT_LEAKY_RELU};
    for (int k = 3; k <= 7; k += 2)
        for (int stride = 1; stride <= 2; stride++)
            for (int a = 0; a < 3; a++)
                test_pconv_case(kt, 1 + irand(19), 1 + irand(19), 1 + irand(20), k, stride,
                                1 + irand(40), acts[a]);
    /* the U-Net's shapes: 3 -> 64 (7x7/2), 67 -> 3 (odd cout), panels with tails */
    test_pconv_case(kt, 12, 30, 3, 7, 2, 64, GI_ACT_RELU);
    test_pconv_case(kt, 8, 25, 67, 3, 1, 3, GI_ACT_NONE);
    test_pconv_case(kt, 6, 13, 48, 3, 1, 40, GI_ACT_LEAKY_RELU);
}

/* ---- GEMM ---------------------------------------------------------------- */

static void test_gemm(const gi_kernels *kt) {
    static const int sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {4, 16, 9}, {5, 600, 3},
                                   {9, 33, 0}, {17, 513, 31}, {2, 1030, 864},
                                   {13, 81, 1100}, {7, 200, 3}, {0, 5, 5}, {6, 0, 5}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int m = sizes[t][0], n = sizes[t][1], k = sizes[t][2];
        size_t lda = k + 3, ldb = n + 2, ldc = n + 5;
        float *a = rand_buf((size_t)m * lda, 1), *b = rand_buf((size_t)(k ? k : 1) * ldb, 1);
        float *c = rand_buf((size_t)m * ldc, 1);
        kt->gemm_ab(m, n, k, a, lda, b, ldb, c, ldc);
        double maxerr = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int kk = 0; kk < k; kk++) s += (double)a[i * lda + kk] * b[kk * ldb + j];
                double e = fabs(s - c[i * ldc + j]);
                if (e > maxerr) maxerr = e;
            }
        CHECK(maxerr < 1e-5 * (1 + k / 8.0), "%s gemm %dx%dx%d: max err %.3g", kt->name, m, n, k,
              maxerr);
        free(a), free(b), free(c);
    }
}

/* ---- contextual attention ---------------------------------------------- */

/* Literal transcription of reference 4.1, full matrices, double sums. */
static void attention_naive(int h, int w, int c, const float *f, const float *mask, int fuse,
                            float scale, double *y) {
    int hh = h / 2, ww = w / 2, P = hh * ww;
    int *ri = malloc(hh * sizeof *ri), *ci = malloc(ww * sizeof *ci);
    gi_tf_nn_index(h, hh, ri);
    gi_tf_nn_index(w, ww, ci);
#define FD(y_, x_, c_) \
    (((y_) < 0 || (y_) >= hh || (x_) < 0 || (x_) >= ww) ? 0.0 : f[((size_t)ri[y_] * w + ci[x_]) * c + (c_)])
    double *S = calloc((size_t)P * P, sizeof *S), *T = calloc((size_t)P * P, sizeof *T);
    double *norm = malloc(P * sizeof *norm);
    int *mm = malloc(P * sizeof *mm);
    for (int q = 0; q < P; q++) {
        int by = q / ww, bx = q % ww;
        double ss = 0;
        int ok = 1;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                for (int ch = 0; ch < c; ch++) ss += FD(by + dy, bx + dx, ch) * FD(by + dy, bx + dx, ch);
                int yy = by + dy, xx = bx + dx;
                if (mask && yy >= 0 && yy < hh && xx >= 0 && xx < ww &&
                    mask[(size_t)ri[yy] * w + ci[xx]] != 0)
                    ok = 0;
            }
        norm[q] = fmax(sqrt(ss), 1e-4);
        mm[q] = ok;
    }
    for (int p = 0; p < P; p++)
        for (int q = 0; q < P; q++) {
            double s = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    for (int ch = 0; ch < c; ch++)
                        s += FD(p / ww + dy, p % ww + dx, ch) * FD(q / ww + dy, q % ww + dx, ch);
            S[(size_t)p * P + q] = s / norm[q];
        }
    if (fuse) {
        /* pass 1: row-major flattening */
        for (int p = 0; p < P; p++)
            for (int q = 0; q < P; q++) {
                double s = 0;
                for (int d = -1; d <= 1; d++)
                    if (p + d >= 0 && p + d < P && q + d >= 0 && q + d < P)
                        s += S[(size_t)(p + d) * P + q + d];
                T[(size_t)p * P + q] = s;
            }
        /* pass 2: column-major flattening of both axes */
        for (int p = 0; p < P; p++)
            for (int q = 0; q < P; q++) {
                int pc = (p % ww) * hh + p / ww, qc = (q % ww) * hh + q / ww;
                double s = 0;
                for (int d = -1; d <= 1; d++) {
                    int a = pc + d, b = qc + d;
                    if (a < 0 || a >= P || b < 0 || b >= P) continue;
                    int ar = (a % hh) * ww + a / hh, br = (b % hh) * ww + b / hh;
                    s += T[(size_t)ar * P + br];
                }
                S[(size_t)p * P + q] = s;
            }
    }
    memset(y, 0, (size_t)h * w * c * sizeof *y);
    for (int p = 0; p < P; p++) {
        double mx = -INFINITY, den = 0;
        for (int q = 0; q < P; q++) mx = fmax(mx, scale * mm[q] * S[(size_t)p * P + q]);
        for (int q = 0; q < P; q++) den += exp(scale * mm[q] * S[(size_t)p * P + q] - mx);
        int fy = p / ww, fx = p % ww;
        for (int q = 0; q < P; q++) {
            if (!mm[q]) continue;
            double att = exp(scale * S[(size_t)p * P + q] - mx) / den;
            int by = q / ww, bx = q % ww;
            for (int ky = 0; ky < 4; ky++)
                for (int kx = 0; kx < 4; kx++) {
                    int oy = 2 * fy - 1 + ky, ox = 2 * fx - 1 + kx;
                    int sy = 2 * by - 1 + ky, sx = 2 * bx - 1 + kx;
                    if (oy < 0 || oy >= h || ox < 0 || ox >= w) continue;
                    if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                    for (int ch = 0; ch < c; ch++)
                        y[((size_t)oy * w + ox) * c + ch] +=
                            att * f[((size_t)sy * w + sx) * c + ch] / 4.0;
                }
        }
    }
#undef FD
    free(ri), free(ci), free(S), free(T), free(norm), free(mm);
}

static void test_attention_case(const gi_kernels *kt, int h, int w, int c, int fuse,
                                int with_mask, size_t budget, int nthreads) {
    float *f = rand_buf((size_t)h * w * c, 1.0f);
    for (size_t i = 0; i < (size_t)h * w * c; i++) f[i] = f[i] > 0 ? f[i] * 0.3f : 0; /* ReLU-like */
    float *mask = NULL;
    if (with_mask) {
        mask = calloc((size_t)h * w, sizeof *mask);
        int y0 = irand(h), x0 = irand(w), hy = 1 + irand(h / 2 + 1), hx = 1 + irand(w / 2 + 1);
        for (int y = y0; y < h && y < y0 + hy; y++)
            for (int x = x0; x < w && x < x0 + hx; x++) mask[(size_t)y * w + x] = 1;
    }
    float *y = malloc((size_t)h * w * c * sizeof *y);
    double *ref = malloc((size_t)h * w * c * sizeof *ref);
    gi_attention_args a = {kt, nthreads, h, w, c, f, mask, fuse, 10.0f, y, budget, NULL,
                           NULL, 0, 0, 0, 0, NULL};
    void *ws = aligned_alloc(64, (gi_attention_workspace(&a) + 63) & ~(size_t)63);
    gi_attention_run(&a, ws);
    attention_naive(h, w, c, f, mask, fuse, 10.0f, ref);
    double maxerr = 0;
    for (size_t i = 0; i < (size_t)h * w * c; i++) maxerr = fmax(maxerr, fabs(y[i] - ref[i]));
    CHECK(maxerr < 2e-5, "%s attention %dx%dx%d fuse %d mask %d budget %zu: max err %.3g",
          kt->name, h, w, c, fuse, with_mask, budget, maxerr);

    /* Only some queries wanted: every output pixel whose pasting queries are
     * all wanted must come out bit-identical. */
    int hh = h / 2, ww = w / 2;
    uint8_t *q = malloc((size_t)hh * ww);
    for (int i = 0; i < hh * ww; i++) q[i] = irand(2);
    float *yq = malloc((size_t)h * w * c * sizeof *yq);
    a.queries = q;
    a.y = yq;
    void *wsq = aligned_alloc(64, (gi_attention_workspace(&a) + 63) & ~(size_t)63);
    gi_attention_run(&a, wsq);
    int same = 1, compared = 0;
    for (int oy = 0; oy < h; oy++)
        for (int ox = 0; ox < w; ox++) {
            int complete = 1; /* query (fy, fx) pastes rows 2fy-1..2fy+2 */
            for (int fy = 0; fy < hh; fy++)
                for (int fx = 0; fx < ww; fx++)
                    if (oy >= 2 * fy - 1 && oy <= 2 * fy + 2 && ox >= 2 * fx - 1 &&
                        ox <= 2 * fx + 2 && !q[fy * ww + fx])
                        complete = 0;
            if (!complete) continue;
            compared++;
            same &= !memcmp(y + ((size_t)oy * w + ox) * c, yq + ((size_t)oy * w + ox) * c,
                            (size_t)c * sizeof *y);
        }
    CHECK(same, "%s attention %dx%dx%d fuse %d: pixels of wanted queries differ (%d compared)",
          kt->name, h, w, c, fuse, compared);
    free(q), free(yq), free(wsq);
    free(f), free(mask), free(y), free(ref), free(ws);
}

/* The residual paste (aux): with a constant aux map the windows' weights
 * add up to exactly that constant wherever four pasted footprints overlap
 * (inside the hole, away from the edges), nothing is written where no
 * footprint touches the hole, and the result does not depend on threads. */
static void test_attention_aux(const gi_kernels *kt) {
    const int h = 24, w = 32, c = 4, S = 3, ah = h * S, aw = w * S;
    float *f = rand_buf((size_t)h * w * c, 1.0f);
    float *mask = calloc((size_t)h * w, sizeof *mask);
    for (int y = 8; y < 16; y++)
        for (int x = 10; x < 22; x++) mask[(size_t)y * w + x] = 1;
    float *aux = malloc((size_t)ah * aw * 3 * sizeof *aux);
    for (size_t i = 0; i < (size_t)ah * aw * 3; i++) aux[i] = 5.0f;
    float *y = malloc((size_t)h * w * c * sizeof *y);
    float *ay[2];
    for (int t = 0; t < 2; t++) {
        ay[t] = malloc((size_t)ah * aw * 3 * sizeof *ay[t]);
        gi_attention_args a = {kt, t + 1, h, w, c, f, mask, 1, 10.0f, y, 0, NULL,
                               aux, ah, aw, 3, S, ay[t]};
        void *ws = aligned_alloc(64, (gi_attention_workspace(&a) + 63) & ~(size_t)63);
        gi_attention_run(&a, ws);
        free(ws);
    }
    int inside_ok = 1, outside_zero = 1;
    for (int oy = 0; oy < ah; oy++)
        for (int ox = 0; ox < aw; ox++) {
            float v = ay[0][((size_t)oy * aw + ox) * 3];
            int fy = oy / S, fx = ox / S; /* feature pixel */
            if (fy >= 10 && fy < 14 && fx >= 12 && fx < 20 && fabsf(v - 5.0f) > 1e-4f)
                inside_ok = 0;
            if ((fy < 4 || fy >= 20 || fx < 6 || fx >= 26) && v != 0.0f) outside_zero = 0;
        }
    CHECK(inside_ok, "%s aux paste: the windows do not add up to the constant in the hole",
          kt->name);
    CHECK(outside_zero, "%s aux paste wrote far from the hole", kt->name);
    CHECK(!memcmp(ay[0], ay[1], (size_t)ah * aw * 3 * sizeof *ay[0]),
          "%s aux paste differs between 1 and 2 threads", kt->name);
    free(f), free(mask), free(aux), free(y), free(ay[0]), free(ay[1]);
}

static void test_attention(const gi_kernels *kt) {
    test_attention_aux(kt);
    static const int sizes[][3] = {{2, 2, 1}, {4, 6, 3}, {8, 8, 5}, {6, 14, 4},
                                   {12, 10, 7}, {16, 12, 2}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
        for (int fuse = 0; fuse <= 1; fuse++)
            for (int m = 0; m <= 1; m++) {
                int h = sizes[t][0], w = sizes[t][1], c = sizes[t][2];
                int P = (h / 2) * (w / 2);
                /* default budget: one chunk; tiny budget: one query per chunk */
                test_attention_case(kt, h, w, c, fuse, m, 0, 1);
                test_attention_case(kt, h, w, c, fuse, m, (size_t)P * 4, 2);
                test_attention_case(kt, h, w, c, fuse, m, (size_t)P * 4 * (P / 3 + 1), 1);
            }
}

/* ---- guided push-pull hole pre-fill (graph/fill.h) --------------------- */

/* Pixels of 5 floats: colour, the guide plane, a sentinel the fill must not
 * touch, as in the network input. */
enum { FS = 5 };

static float *fill_image(int h, int w) {
    float *x = malloc((size_t)h * w * FS * sizeof *x);
    for (size_t i = 0; i < (size_t)h * w * FS; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)h * w; i++) x[i * FS + 3] = 0.0f;
    return x;
}

/* The push-pull fill (guide 0), guided (1) or ring-warp (2) on a copy of x,
 * from a misaligned scratch. */
static float *filled(const float *x, int h, int w, const float *hole, int guide) {
    size_t n = (size_t)h * w * FS * sizeof(float);
    float *y = malloc(n);
    memcpy(y, x, n);
    unsigned char *scr = malloc((guide == 2   ? gi_ring_warp_scratch(h, w)
                                 : guide == 1 ? gi_guided_pushpull_scratch(h, w)
                                              : gi_pushpull_scratch(h, w)) + 1);
    if (guide == 2)
        gi_ring_warp_fill(y, h, w, FS, hole, y + 3, FS, scr + 1);
    else if (guide)
        gi_guided_pushpull_fill(y, h, w, FS, hole, y + 3, FS, scr + 1);
    else
        gi_pushpull_fill(y, h, w, FS, hole, scr + 1);
    free(scr);
    return y;
}

/* Every float of a known pixel and every non-colour float is unchanged. */
static int only_holes_written(const float *x, const float *y, int h, int w, const float *hole) {
    for (size_t i = 0; i < (size_t)h * w; i++)
        for (int c = 0; c < FS; c++)
            if ((hole[i] == 0.0f || c >= 3) && memcmp(&x[i * FS + c], &y[i * FS + c], 4))
                return 0;
    return 1;
}

/* Largest |colour - want| over rows y0..y1, columns x0..x1 (inclusive). */
static double max_dev(const float *y, int w, int y0, int y1, int x0, int x1, const float want[3]) {
    double m = 0;
    for (int r = y0; r <= y1; r++)
        for (int c = x0; c <= x1; c++)
            for (int ch = 0; ch < 3; ch++) {
                double e = fabs(y[((size_t)r * w + c) * FS + ch] - want[ch]);
                m = e > m ? e : m;
            }
    return m;
}

/* Red (0.8, 0, 0) left of column `edge`, (0, -0.6, 0) from it on; a hole
 * over rows r0..r1-1, columns c0..c1-1; the guide plane: column `gx` inside
 * the hole. */
static void two_colour_scene(float *x, float *hole, int h, int w, int r0, int r1, int c0, int c1,
                             int edge, int gx) {
    for (int i = 0; i < h * w; i++) {
        int r = i / w, c = i % w;
        hole[i] = r >= r0 && r < r1 && c >= c0 && c < c1 ? 1.0f : 0.0f;
        x[i * FS + 0] = c < edge ? 0.8f : 0.0f;
        x[i * FS + 1] = c < edge ? 0.0f : -0.6f;
        x[i * FS + 2] = 0.0f;
        x[i * FS + 3] = c == gx ? hole[i] : 0.0f;
    }
}

static void test_guided_fill(void) {
    /* No guide pixel in the hole (guide values on known pixels are ignored):
     * exactly push-pull. */
    {
        int h = 29, w = 43;
        float *x = fill_image(h, w), *hole = malloc((size_t)h * w * sizeof *hole);
        for (int i = 0; i < h * w; i++) {
            int r = i / w, c = i % w;
            hole[i] = (r > 5 && r < 20 && c > 8 && c < 30) || frand() > 0.6f ? 1.0f : 0.0f;
            if (hole[i] == 0.0f && frand() > 0.5f) x[i * FS + 3] = 1.0f;
        }
        float *g = filled(x, h, w, hole, 1), *p = filled(x, h, w, hole, 0);
        CHECK(memcmp(g, p, (size_t)h * w * FS * sizeof *g) == 0,
              "guided fill without guide pixels differs from push-pull");
        free(x), free(hole), free(g), free(p);
    }
    /* A full-height hole split by a guide column: each side takes exactly its
     * own colour, the guide column lies between the two. */
    {
        int h = 20, w = 30, gx = 13;
        const float A[3] = {0.8f, -0.2f, 0.1f}, B[3] = {-0.6f, 0.5f, 0.3f};
        float *x = fill_image(h, w), *hole = malloc((size_t)h * w * sizeof *hole);
        for (int i = 0; i < h * w; i++) {
            int c = i % w;
            hole[i] = c >= 4 && c <= 25 ? 1.0f : 0.0f;
            for (int ch = 0; ch < 3; ch++)
                x[i * FS + ch] = hole[i] != 0.0f ? 0.0f : c < 4 ? A[ch] : B[ch];
            x[i * FS + 3] = c == gx ? 1.0f : 0.0f;
        }
        float *g = filled(x, h, w, hole, 1), *p = filled(x, h, w, hole, 0);
        CHECK(only_holes_written(x, g, h, w, hole), "guided fill wrote outside the hole");
        CHECK(max_dev(g, w, 0, h - 1, 4, gx - 1, A) <= 1e-6, "left of the guide: not its colour");
        CHECK(max_dev(g, w, 0, h - 1, gx + 1, 25, B) <= 1e-6, "right of the guide: not its colour");
        CHECK(max_dev(p, w, 0, h - 1, 4, gx - 1, A) > 0.1, "plain push-pull mixes the sides");
        int between = 1;
        for (int r = 0; r < h; r++)
            for (int ch = 0; ch < 3; ch++) {
                float v = g[((size_t)r * w + gx) * FS + ch];
                float lo = A[ch] < B[ch] ? A[ch] : B[ch], hi = A[ch] < B[ch] ? B[ch] : A[ch];
                between &= v > lo && v < hi;
            }
        CHECK(between, "guide pixels are not between the two colours");
        free(x), free(hole), free(g), free(p);
    }
    /* tests/train/test_train.py's case: the colour edge (column 16) is not on
     * the guide (column 12); known pixels above and below the hole. */
    {
        int h = 24, w = 32;
        const float A[3] = {0.8f, 0.0f, 0.0f};
        float *x = fill_image(h, w), *hole = malloc((size_t)h * w * sizeof *hole);
        two_colour_scene(x, hole, h, w, 6, 18, 4, 28, 16, 12);
        float *g = filled(x, h, w, hole, 1), *p = filled(x, h, w, hole, 0);
        CHECK(only_holes_written(x, g, h, w, hole), "guided fill wrote outside the hole");
        CHECK(max_dev(g, w, 6, 17, 4, 11, A) <= 1e-6, "left region: not the left colour");
        int right = 1, line = 1;
        for (int r = 6; r < 18; r++) {
            const float *row = g + (size_t)r * w * FS, *prow = p + (size_t)r * w * FS;
            for (int c = 13; c < 28; c++) right &= row[c * FS + 1] < 0.0f;
            for (int c = 13; c < 16; c++) right &= prow[c * FS + 1] > row[c * FS + 1];
            line &= row[12 * FS] > row[13 * FS] && row[12 * FS] < row[11 * FS];
        }
        CHECK(right, "right region: the right colour does not dominate");
        CHECK(line, "guide column not between its neighbours");
        free(x), free(hole), free(g), free(p);
    }
    /* A region closed in by the guide, with no known pixel within 2 px, keeps
     * plain push-pull. */
    {
        int h = 24, w = 32;
        float *x = fill_image(h, w), *hole = malloc((size_t)h * w * sizeof *hole);
        for (int i = 0; i < h * w; i++) {
            int r = i / w, c = i % w;
            hole[i] = r >= 1 && r < 23 && c >= 1 && c < 31 ? 1.0f : 0.0f;
            for (int ch = 0; ch < 3; ch++) x[i * FS + ch] *= 1.0f - hole[i];
            int inner = r >= 4 && r < 20 && c >= 4 && c < 28;
            int frame = r >= 2 && r < 22 && c >= 2 && c < 30 && !inner;
            x[i * FS + 3] = frame ? 1.0f : 0.0f;
        }
        float *g = filled(x, h, w, hole, 1), *p = filled(x, h, w, hole, 0);
        CHECK(only_holes_written(x, g, h, w, hole), "guided fill wrote outside the hole");
        int same = 1, differs = 0;
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                size_t i = ((size_t)r * w + c) * FS;
                int inner = r >= 4 && r < 20 && c >= 4 && c < 28;
                if (inner) same &= memcmp(g + i, p + i, 3 * sizeof *g) == 0;
                else if (hole[i / FS] != 0.0f) differs |= memcmp(g + i, p + i, 3 * sizeof *g) != 0;
            }
        CHECK(same, "enclosed region without known neighbours is not plain push-pull");
        CHECK(differs, "the band outside the guide frame was not refilled");
        free(x), free(hole), free(g), free(p);
    }
}

/* Mean of colour channel ch over rows y0..y1 of column c. */
static double column_mean(const float *y, int w, int y0, int y1, int c, int ch) {
    double m = 0;
    for (int r = y0; r <= y1; r++) m += y[((size_t)r * w + c) * FS + ch];
    return m / (y1 - y0 + 1);
}

static void test_ring_warp_fill(void) {
    /* tests/train/test_train.py's case: red left of column 48, green right of
     * it, a 20 x 64 hole; a guide line at column 40, 48 (on the edge) or 56.
     * The outline moves to the line: red left of it, none right of it (the
     * column beside the line excepted: its border pixels' 7 x 7 means reach
     * across). */
    int h = 40, w = 96;
    for (int gx = 40; gx <= 56; gx += 8) {
        float *x = fill_image(h, w), *hole = malloc((size_t)h * w * sizeof *hole);
        two_colour_scene(x, hole, h, w, 10, 30, 16, 80, 48, gx);
        float *g = filled(x, h, w, hole, 2), *gp = filled(x, h, w, hole, 1);
        CHECK(only_holes_written(x, g, h, w, hole), "ring-warp fill wrote outside the hole");
        int moved = 1, guided_moved = 1;
        for (int c = 16; c < 80; c++) {
            if (c >= gx - 1 && c <= gx + 1) continue;
            double m = column_mean(g, w, 10, 29, c, 0), mg = column_mean(gp, w, 10, 29, c, 0);
            moved &= c < gx ? m > 0.6 : m < 0.3;
            guided_moved &= c < gx ? mg > 0.6 : mg < 0.3;
        }
        if (gx == 48) /* the line meets its outline: nothing moves */
            CHECK(memcmp(g, gp, (size_t)h * w * FS * sizeof *g) == 0,
                  "ring-warp fill: a line on its outline changed the guided fill");
        else
            CHECK(moved && !guided_moved, "ring-warp fill: the outline is not at the line");
        free(x), free(hole), free(g), free(gp);
    }
    /* Without guide pixels in the hole: exactly push-pull. Random holes with
     * two lines across them (and holes on the image's border): only hole
     * colours written, all finite (and, under ASan, no access out of bounds). */
    for (int k = 0; k < 6; k++) {
        int hh = 17 + 9 * k, ww = 23 + 7 * k;
        float *x = fill_image(hh, ww), *hole = malloc((size_t)hh * ww * sizeof *hole);
        for (int i = 0; i < hh * ww; i++) {
            int r = i / ww, c = i % ww;
            hole[i] = (r > 2 && r < hh - 4 && c > 3 && c < ww / 2) || frand() > 0.7f ||
                              (k & 1 && r < 3) ? 1.0f : 0.0f;
        }
        float *g = filled(x, hh, ww, hole, 2), *p = filled(x, hh, ww, hole, 0);
        CHECK(memcmp(g, p, (size_t)hh * ww * FS * sizeof *g) == 0,
              "ring-warp fill without guide pixels differs from push-pull");
        free(g), free(p);
        for (int i = 0; i < hh * ww; i++) {
            int r = i / ww, c = i % ww;
            x[i * FS + 3] = c == ww / 4 + r / 3 || r == hh / 2 ? 1.0f : 0.0f;
        }
        g = filled(x, hh, ww, hole, 2);
        CHECK(only_holes_written(x, g, hh, ww, hole), "ring-warp fill wrote outside the hole");
        int finite = 1;
        for (size_t i = 0; i < (size_t)hh * ww * FS; i++) finite &= isfinite(g[i]) != 0;
        CHECK(finite, "ring-warp fill: a colour is not finite");
        free(x), free(hole), free(g);
    }
}

int main(void) {
    static const int32_t tiers[] = {GI_ISA_SCALAR, GI_ISA_NEON, GI_ISA_AVX2, GI_ISA_AVX512};
    const gi_kernels *seen[4] = {0};
    int nseen = 0;
    for (size_t t = 0; t < sizeof tiers / sizeof tiers[0]; t++) {
        const gi_kernels *kt = gi_kernels_select(tiers[t]);
        int dup = 0;
        for (int i = 0; i < nseen; i++) dup |= seen[i] == kt;
        if (dup) continue;
        seen[nseen++] = kt;
        printf("kernel table: %s\n", kt->name);
        test_conv(kt);
        test_pconv(kt);
        test_gemm(kt);
        test_attention(kt);
    }
    test_guided_fill();
    test_ring_warp_fill();
    return check_report();
}
