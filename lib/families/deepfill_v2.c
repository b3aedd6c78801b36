/* The DeepFill v2 generator (docs/DEEPFILL_V2.md section 2): stage 1
 * (coarse), stage 2 with a convolution branch and a contextual-attention
 * branch, merged and decoded. Activations are HWC float; two ping-pong
 * buffers carry each chain of layers. Also the family's input (normalised
 * colour, guide, ones, mask; the optional hole pre-fill) and output. */
#include "deepfill_v2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/error.h"
#include "../graph/attention.h"
#include "../graph/conv.h"
#include "../graph/fill.h"

/* Output size and TF 'SAME' padding of one layer on an h x w input. */
static void layer_shape(const gi_layer_spec *l, int32_t in_h, int32_t in_w, int32_t in_ps,
                        int32_t out_ps, gi_conv_shape *sh) {
    gi_conv_shape_same(sh, in_h, in_w, l->cin, in_ps, l->upsample ? 2 : 1, l->k, l->stride,
                       l->dilation, l->cconv, l->cout, out_ps, l->act);
}

/* Layer ranges of the graph. */
enum {
    STAGE1_FIRST = GI_DF_conv1, STAGE1_LAST = GI_DF_conv17,
    XBRANCH_FIRST = GI_DF_xconv1, XBRANCH_LAST = GI_DF_xconv10_atrous,
    PM_FIRST = GI_DF_pmconv1, PM_BEFORE_CA = GI_DF_pmconv6,
    PM_AFTER_CA = GI_DF_pmconv9, PM_LAST = GI_DF_pmconv10,
    MERGE_FIRST = GI_DF_allconv11, MERGE_LAST = GI_DF_allconv17,
};

typedef struct plan {
    int32_t h4, w4, c2, c4;     /* attention resolution and channel counts */
    size_t pingpong;            /* floats in each ping-pong buffer */
    size_t conv_scratch;        /* floats per thread */
    gi_attention_args att;
    size_t o_a, o_b, o_xnow, o_merged, o_caf, o_cay, o_masks, o_ri, o_ci, o_conv, o_att,
        o_reach, o_queries, total;
} plan;

static void make_plan(const gi_deepfill *m, const gi_exec *ex, int32_t h, int32_t w, plan *p) {
    memset(p, 0, sizeof *p);
    p->h4 = h / 4;
    p->w4 = w / 4;
    p->c2 = 2 * m->width;
    p->c4 = 4 * m->width;
    /* Every layer's output size follows from its input's; walk the graph. */
    int32_t hs[GI_DF_NUM_LAYERS + 1];
    int32_t ws[GI_DF_NUM_LAYERS + 1];
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        int32_t ih = h, iw = w;
        if (i != STAGE1_FIRST && i != XBRANCH_FIRST && i != PM_FIRST) {
            ih = hs[i - 1];
            iw = ws[i - 1];
        }
        if (i == MERGE_FIRST) {
            ih = p->h4;
            iw = p->w4;
        }
        gi_conv_shape sh;
        layer_shape(&m->layers[i], ih, iw, m->layers[i].cin, m->layers[i].cout, &sh);
        hs[i] = sh.out_h;
        ws[i] = sh.out_w;
        size_t n = (size_t)sh.out_h * sh.out_w * sh.cout;
        if (n > p->pingpong) p->pingpong = n;
        size_t cs = ex->kernels->conv_scratch_size(&sh);
        if (cs > p->conv_scratch) p->conv_scratch = cs;
    }
    p->att = (gi_attention_args){ex->kernels, ex->num_threads, p->h4, p->w4, p->c2, NULL,
                                 NULL, m->fuse, m->softmax_scale, NULL, 0, NULL,
                                 NULL, 0, 0, 0, 0, NULL};
    size_t off = 0, f = sizeof(float);
    size_t q = (size_t)p->h4 * p->w4;
    /* The attention's workspace shares memory with the ping-pong buffers:
     * when it runs, the chains before it have written their results
     * elsewhere (merged, caf) and the chains after it have not started. */
    size_t pp = (p->pingpong * f + 63) & ~(size_t)63;
    size_t att = gi_attention_workspace(&p->att);
    p->o_a = 0;
    p->o_b = pp;
    p->o_att = 0;
    gi_carve(&off, 2 * pp > att ? 2 * pp : att);
    p->o_xnow = gi_carve(&off, (size_t)h * w * 3 * f);
    p->o_merged = gi_carve(&off, q * p->c4 * f);
    p->o_caf = gi_carve(&off, q * p->c2 * f);
    p->o_cay = gi_carve(&off, q * p->c2 * f);
    p->o_masks = gi_carve(&off, q * f);
    /* mask resize indices: in the arena, not on the stack (tall images) */
    p->o_ri = gi_carve(&off, (size_t)p->h4 * sizeof(int32_t));
    p->o_ci = gi_carve(&off, (size_t)p->w4 * sizeof(int32_t));
    p->o_conv = gi_carve(&off, p->conv_scratch * f * (size_t)ex->num_threads);
    p->o_reach = gi_carve(&off, 2 * q);
    p->o_queries = gi_carve(&off, q / 4);
    p->total = off;
}

/* How far (in pixels at 1/4 resolution, square) an attention output can
 * reach into x_stage2: pmconv9, pmconv10, allconv11, allconv12 (3x3 each,
 * 1/4 res: 4), allconv13_upsample and allconv14 (3x3 at 1/2 res: at most 1
 * each at 1/4 res), allconv15_upsample, allconv16, allconv17 (3x3 at full
 * res: at most 1 each). Generous by design: it only has to cover. */
#define ATTENTION_REACH 9

/* The attention queries whose result can reach a hole pixel of the output
 * (only those pixels are composited into the result): the hole at 1/4
 * resolution, grown by ATTENTION_REACH, then every query whose 4x4 paste
 * footprint (rows 2fy-1 .. 2fy+2) touches it. `reach` holds 2*h4*w4 bytes. */
static void wanted_queries(const float *mask, int32_t H, int32_t W, int32_t h4, int32_t w4,
                           uint8_t *reach, uint8_t *queries) {
    uint8_t *rows = reach + (size_t)h4 * w4;
    for (int32_t y = 0; y < h4; y++)
        for (int32_t x = 0; x < w4; x++) {
            uint8_t hole = 0;
            for (int32_t dy = 0; dy < 4 && !hole; dy++)
                for (int32_t dx = 0; dx < 4; dx++)
                    hole |= mask[(size_t)(4 * y + dy) * W + 4 * x + dx] != 0.0f;
            reach[(size_t)y * w4 + x] = hole;
        }
    (void)H;
    /* square dilation, separable: along x into rows, then along y back */
    for (int32_t y = 0; y < h4; y++)
        for (int32_t x = 0; x < w4; x++) {
            uint8_t v = 0;
            for (int32_t d = -ATTENTION_REACH; d <= ATTENTION_REACH && !v; d++)
                if (x + d >= 0 && x + d < w4) v = reach[(size_t)y * w4 + x + d];
            rows[(size_t)y * w4 + x] = v;
        }
    for (int32_t y = 0; y < h4; y++)
        for (int32_t x = 0; x < w4; x++) {
            uint8_t v = 0;
            for (int32_t d = -ATTENTION_REACH; d <= ATTENTION_REACH && !v; d++)
                if (y + d >= 0 && y + d < h4) v = rows[(size_t)(y + d) * w4 + x];
            reach[(size_t)y * w4 + x] = v;
        }
    int32_t hh = h4 / 2, ww = w4 / 2;
    for (int32_t fy = 0; fy < hh; fy++)
        for (int32_t fx = 0; fx < ww; fx++) {
            uint8_t v = 0;
            for (int32_t y = 2 * fy - 1; y <= 2 * fy + 2 && !v; y++)
                for (int32_t x = 2 * fx - 1; x <= 2 * fx + 2; x++)
                    if (y >= 0 && y < h4 && x >= 0 && x < w4 && reach[(size_t)y * w4 + x]) v = 1;
            queries[(size_t)fy * ww + fx] = v;
        }
}

typedef struct run {
    gi_exec *ex;
    const gi_deepfill *m;
    const gi_packed *packed;
    const plan *p;
    float *a, *b, *conv_scratch;
    double macs_done, macs_total;
    int32_t net_h, net_w; /* the network input's size */
    int32_t observed;     /* maps handed to the observer so far */
} run;

/* The gate viewer: the layer once more without its activation, the gate
 * half through a sigmoid, to the observer. The layer's own output is left
 * as computed, so the call's result does not change. */
static gi_status observe_gates(run *r, int layer, const gi_conv_shape *gated, const float *in,
                               const float *wts, int32_t net_h, int32_t net_w) {
    gi_conv_shape sh = *gated;
    sh.act = GI_ACT_NONE;
    sh.cout = sh.out_pstride = sh.cconv;
    const int32_t half = gated->cout;
    size_t npix = (size_t)sh.out_h * sh.out_w;
    float *raw = gi_malloc(npix * sh.cconv * sizeof *raw);
    if (!raw) return gi_fail(GI_E_NOMEM, "gi_inpaint: no memory for the gates of %s",
                             r->m->layers[layer].name);
    gi_conv_run(r->ex->kernels, r->ex->num_threads, &sh, in, wts, raw, r->conv_scratch,
                r->p->conv_scratch);
    for (size_t p = 0; p < npix; p++) /* gates packed in place: pixel p's to p * half */
        for (int32_t c = 0; c < half; c++)
            raw[p * half + c] = 1.0f / (1.0f + expf(-raw[p * sh.cconv + half + c]));
    gi_map_info info = {r->m->layers[layer].name, "gate", r->observed++, 0, sh.out_h,
                        sh.out_w, half, net_h, net_w};
    gi_status st = gi_exec_observe(r->ex, &info, raw);
    free(raw);
    return st;
}

/* One convolution layer, rows split across the threads. */
static gi_status conv(run *r, int layer, const float *in, int32_t in_h, int32_t in_w,
                      int32_t in_ps, float *out, int32_t out_ps, int32_t *out_h,
                      int32_t *out_w) {
    const gi_layer_spec *l = &r->m->layers[layer];
    gi_conv_shape sh;
    layer_shape(l, in_h, in_w, in_ps, out_ps, &sh);
    const float *wts = r->packed->layer[layer];
    gi_conv_run(r->ex->kernels, r->ex->num_threads, &sh, in, wts, out, r->conv_scratch,
                r->p->conv_scratch);
    *out_h = sh.out_h;
    *out_w = sh.out_w;
    r->macs_done += (double)sh.out_h * sh.out_w * sh.cconv * sh.cin * sh.k * sh.k;
    if (r->ex->observe && sh.cout < sh.cconv)
        return observe_gates(r, layer, &sh, in, wts, r->net_h, r->net_w);
    return GI_OK;
}

static gi_status report(run *r, const char *stage) {
    return gi_exec_report(r->ex, (float)(r->macs_done / r->macs_total), stage);
}

/* Layers first..last in order, ping-ponging between r->a and r->b; the
 * last layer writes `out` with pixel stride out_ps. */
static gi_status chain(run *r, int first, int last, const char *stage, const float *in,
                       int32_t h, int32_t w, int32_t in_ps, float *out, int32_t out_ps) {
    const float *cur = in;
    for (int i = first; i <= last; i++) {
        const gi_layer_spec *l = &r->m->layers[i];
        float *dst = i == last ? out : (cur == r->a ? r->b : r->a);
        int32_t ps = i == last ? out_ps : l->cout;
        gi_status st = conv(r, i, cur, h, w, i == first ? in_ps : r->m->layers[i - 1].cout,
                            dst, ps, &h, &w);
        if (st) return st;
        cur = dst;
        st = report(r, stage);
        if (st) return st;
    }
    return GI_OK;
}

/* Multiply-adds of the attention's two GEMMs (matching 9c, paste 16c per
 * pair of positions, c = 2 * cnum channels). */
static double attention_macs(const gi_deepfill *m, int32_t h, int32_t w) {
    double P = (double)(h / 8) * (w / 8);
    return P * P * 25.0 * 2 * m->width;
}

int gi_deepfill_steps(const gi_deepfill *m, int32_t h, int32_t w,
                      double macs[GI_DF_NUM_STEPS], const char *names[GI_DF_NUM_STEPS]) {
    int32_t hs = h, ws = w;
    int step = 0;
    for (int i = 0; i < GI_DF_NUM_LAYERS; i++) {
        if (i == PM_AFTER_CA) {
            macs[step] = attention_macs(m, h, w);
            names[step++] = "contextual_attention";
        }
        if (i == STAGE1_FIRST || i == XBRANCH_FIRST || i == PM_FIRST) hs = h, ws = w;
        gi_conv_shape sh;
        layer_shape(&m->layers[i], hs, ws, m->layers[i].cin, m->layers[i].cout, &sh);
        macs[step] = (double)sh.out_h * sh.out_w * sh.cconv * sh.cin * sh.k * sh.k;
        names[step++] = m->layers[i].name;
        hs = sh.out_h;
        ws = sh.out_w;
    }
    return step;
}

static double total_macs(const gi_deepfill *m, int32_t h, int32_t w) {
    double macs[GI_DF_NUM_STEPS], t = 0;
    const char *names[GI_DF_NUM_STEPS];
    int n = gi_deepfill_steps(m, h, w, macs, names);
    for (int i = 0; i < n; i++) t += macs[i];
    return t;
}

/* The network's buffers, all HWC float at the network size h x w, in the
 * model's channel order. */
typedef struct net_io {
    int32_t h, w;
    const float *x_in; /* h*w*(3 + guide + 2): colour in [-1,1] with holes 0 or
                          pre-filled, (guide edge), ones, mask */
    const float *mask; /* h*w, 1 = hole */
    float *x_stage1;   /* h*w*3 */
    float *x_stage2;   /* h*w*3 */
} net_io;

/* Both stages, with the plan's buffers at `base`. */
static gi_status network(gi_deepfill *m, gi_exec *ex, const plan *pl, const net_io *io,
                         gi_net_aux *aux, uint8_t *base) {
    const plan p = *pl;
    const gi_packed *packed = gi_packed_get(&m->packed, ex->kernels);
    if (!packed) return GI_E_NOMEM;
    run r = {ex, m, packed, &p, (float *)(base + p.o_a), (float *)(base + p.o_b),
             (float *)(base + p.o_conv), 0, 0, io->h, io->w, 0};
    r.macs_total = total_macs(m, io->h, io->w);
    const int32_t H = io->h, W = io->w, cin1 = m->layers[GI_DF_conv1].cin;
    gi_status st;

    /* Stage 1: coarse result. */
    st = chain(&r, STAGE1_FIRST, STAGE1_LAST, "coarse", io->x_in, H, W, cin1, io->x_stage1, 3);
    if (st) return st;
    /* Composite: coarse prediction inside the hole, input outside. Residual
     * models predict a correction to their input image: add it first. */
    float *xnow = (float *)(base + p.o_xnow);
    const float res = m->residual ? 1.0f : 0.0f;
    for (size_t i = 0; i < (size_t)H * W; i++) {
        float mk = io->mask[i];
        for (int ch = 0; ch < 3; ch++) {
            float in = io->x_in[i * cin1 + ch];
            float x1 = io->x_stage1[i * 3 + ch] += res * in;
            xnow[i * 3 + ch] = x1 * mk + in * (1.0f - mk);
        }
    }

    /* Stage 2, convolution branch -> channels [0, 2c) of the merged map. */
    float *merged = (float *)(base + p.o_merged);
    st = chain(&r, XBRANCH_FIRST, XBRANCH_LAST, "refine", xnow, H, W, 3, merged, p.c4);
    if (st) return st;

    /* Stage 2, attention branch -> channels [2c, 4c). */
    float *caf = (float *)(base + p.o_caf), *cay = (float *)(base + p.o_cay);
    st = chain(&r, PM_FIRST, PM_BEFORE_CA, "attention", xnow, H, W, 3, caf, p.c2);
    if (st) return st;
    /* The attention's mask: the full mask resized to h/4 x w/4 (TF nearest,
     * align corners); the attention resizes it once more itself. */
    float *mask_s = (float *)(base + p.o_masks);
    {
        int32_t *ri = (int32_t *)(base + p.o_ri), *ci = (int32_t *)(base + p.o_ci);
        gi_tf_nn_index(H, p.h4, ri);
        gi_tf_nn_index(W, p.w4, ci);
        for (int32_t y = 0; y < p.h4; y++)
            for (int32_t x = 0; x < p.w4; x++)
                mask_s[(size_t)y * p.w4 + x] = io->mask[(size_t)ri[y] * W + ci[x]];
    }
    gi_attention_args att = p.att;
    att.f = caf;
    att.mask = mask_s;
    att.y = cay;
    /* Only the queries that can reach the composited hole, unless the whole
     * x_stage2 is wanted (test taps). */
    if (!ex->taps) {
        uint8_t *queries = base + p.o_queries;
        wanted_queries(io->mask, H, W, p.h4, p.w4, base + p.o_reach, queries);
        att.queries = queries;
    }
    if (aux) { /* one attention feature pixel is 4 network pixels */
        att.aux = aux->src;
        att.aux_h = aux->src_h;
        att.aux_w = aux->src_w;
        att.aux_c = 3;
        att.aux_scale = 4 * aux->scale;
        att.aux_y = aux->dst;
    }
    gi_attention_run(&att, base + p.o_att);
    r.macs_done += attention_macs(m, H, W);
    st = report(&r, "attention");
    if (st) return st;
    st = chain(&r, PM_AFTER_CA, PM_LAST, "attention", cay, p.h4, p.w4, p.c2, merged + p.c2,
               p.c4);
    if (st) return st;

    /* Merge and decode. */
    st = chain(&r, MERGE_FIRST, MERGE_LAST, "refine", merged, p.h4, p.w4, p.c4, io->x_stage2, 3);
    if (st) return st;
    if (m->residual)
        for (size_t i = 0; i < (size_t)H * W * 3; i++) io->x_stage2[i] += xnow[i];
    return GI_OK;
}

/* ---- the family's input and output ----------------------------------------- */

/* Arena layout of one forward pass: the network's plan, then its input,
 * mask, both stage outputs and the pre-fill's scratch. */
typedef struct layout {
    plan p;
    size_t o_x, o_m, o_1, o_2, o_fill, total;
} layout;

static void make_layout(const gi_deepfill *m, const gi_exec *ex, int32_t h, int32_t w,
                        layout *l) {
    make_plan(m, ex, h, w, &l->p);
    size_t npix = (size_t)h * w, f = sizeof(float), off = l->p.total;
    size_t cin = (size_t)m->layers[GI_DF_conv1].cin;
    off = (off + 63) & ~(size_t)63;
    l->o_x = gi_carve(&off, npix * cin * f);
    l->o_m = gi_carve(&off, npix * f);
    l->o_1 = gi_carve(&off, npix * 3 * f);
    l->o_2 = gi_carve(&off, npix * 3 * f);
    l->o_fill = off;
    size_t fill = m->input_fill == GI_FILL_PUSHPULL          ? gi_pushpull_scratch(h, w)
                  : m->input_fill == GI_FILL_GUIDED_PUSHPULL ? gi_guided_pushpull_scratch(h, w)
                  : m->input_fill == GI_FILL_RING_WARP       ? gi_ring_warp_scratch(h, w)
                                                             : 0;
    l->total = off + fill;
}

static gi_status deepfill_scratch(const void *state, const gi_exec *ex, int32_t h, int32_t w,
                                  size_t *bytes) {
    const gi_deepfill *m = state;
    /* The guided fills number pixels with int32. */
    if (GI_FILL_READS_GUIDE(m->input_fill) && (size_t)h * w > INT32_MAX)
        return gi_fail(GI_E_UNSUPPORTED, "the %s pre-fill handles at most 2^31 - 1 pixels, "
                       "the network input has %dx%d", gi_deepfill_fill_name(m->input_fill),
                       (int)w, (int)h);
    layout l;
    make_layout(m, ex, h, w, &l);
    *bytes = l.total;
    return GI_OK;
}

/* Network input: [colour in [-1,1] with holes 0, (guide edge), ones, mask]
 * (the holes' colour is pre-filled afterwards for input_fill models). */
static void build_input(const gi_deepfill *m, const gi_net_io *io, float *x_in, float *mk) {
    const int32_t cin = m->layers[GI_DF_conv1].cin;
    const size_t npix = (size_t)io->h * io->w;
    for (size_t i = 0; i < npix; i++) {
        float hole = io->hole[i] ? 1.0f : 0.0f;
        float *px = x_in + i * cin;
        for (int ch = 0; ch < 3; ch++) {
            int32_t src = m->bgr ? 2 - ch : ch;
            float v = (float)io->rgb[i * 3 + src] / 127.5f - 1.0f;
            px[ch] = hole != 0.0f ? 0.0f : v;
        }
        int32_t k = 3;
        if (m->guide_channels) px[k++] = (io->edge && io->edge[i]) ? hole : 0.0f;
        px[k++] = 1.0f;
        px[k] = hole;
        mk[i] = hole;
    }
}

static gi_status copy_taps(gi_debug_taps *taps, const net_io *io) {
    size_t n = (size_t)io->h * io->w * 3;
    taps->net_h = io->h;
    taps->net_w = io->w;
    taps->x_stage1 = gi_malloc(n * sizeof(float));
    taps->x_stage2 = gi_malloc(n * sizeof(float));
    if (!taps->x_stage1 || !taps->x_stage2) {
        free(taps->x_stage1);
        free(taps->x_stage2);
        taps->x_stage1 = taps->x_stage2 = NULL;
        return gi_fail(GI_E_NOMEM, "gi_inpaint: cannot allocate the debug taps");
    }
    memcpy(taps->x_stage1, io->x_stage1, n * sizeof(float));
    memcpy(taps->x_stage2, io->x_stage2, n * sizeof(float));
    return GI_OK;
}

static gi_status deepfill_forward(void *state, gi_exec *ex, gi_net_io *io, void *scratch) {
    gi_deepfill *m = state;
    const int32_t hn = io->h, wn = io->w, cin = m->layers[GI_DF_conv1].cin;
    layout l;
    make_layout(m, ex, hn, wn, &l);
    uint8_t *base = scratch;
    net_io net = {hn, wn, (float *)(base + l.o_x), (float *)(base + l.o_m),
                  (float *)(base + l.o_1), (float *)(base + l.o_2)};
    build_input(m, io, (float *)net.x_in, (float *)net.mask);
    if (m->input_fill == GI_FILL_PUSHPULL)
        gi_pushpull_fill((float *)net.x_in, hn, wn, cin, net.mask, base + l.o_fill);
    else if (m->input_fill == GI_FILL_GUIDED_PUSHPULL) /* channel 3: the guide plane */
        gi_guided_pushpull_fill((float *)net.x_in, hn, wn, cin, net.mask,
                                net.x_in + 3, cin, base + l.o_fill);
    else if (m->input_fill == GI_FILL_RING_WARP)
        gi_ring_warp_fill((float *)net.x_in, hn, wn, cin, net.mask, net.x_in + 3, cin,
                          base + l.o_fill);
    gi_status st = network(m, ex, &l.p, &net, io->aux, base);
    if (st) return st;
    if (ex->taps && (st = copy_taps(ex->taps, &net))) return st;
    /* tanh outputs to RGB on the 0..255 scale, in place */
    float *x2 = net.x_stage2;
    const size_t npix = (size_t)hn * wn;
    for (size_t i = 0; i < npix; i++) {
        float *px = x2 + i * 3;
        if (m->bgr) {
            float t = px[0];
            px[0] = px[2];
            px[2] = t;
        }
        for (int ch = 0; ch < 3; ch++) px[ch] = (px[ch] + 1.0f) * 127.5f;
    }
    io->out = x2;
    return GI_OK;
}

const gi_family gi_family_deepfill_v2 = {
    .name = "deepfill_v2",
    .read_metadata = gi_deepfill_read_metadata,
    .load_tensors = gi_deepfill_load_tensors,
    .destroy = gi_deepfill_destroy,
    .scratch = deepfill_scratch,
    .forward = deepfill_forward,
    .property = gi_deepfill_property,
};
