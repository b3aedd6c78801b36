/* Contextual attention, computed in chunks of query positions so that the
 * P x P score matrix is never held whole.
 *
 * Notation (docs/DEEPFILL_V2.md 4.1): the map is h x w x c; matching
 * runs on the x2 nearest-downscaled map of hh x ww = P positions. X[p] is
 * the 3x3 patch (9c values) around position p of the downscaled map,
 * Wn[q] = X[q] / max(|X[q]|, 1e-4), S[p][q] = X[p] . Wn[q].
 *
 * Fusion sums S over a 3-tap diagonal twice: once in row-major flattening
 * (p+-1, q+-1), once in column-major flattening (the position one row
 * up/down, wrapping to the neighbouring column at the top/bottom). So the
 * fused score of query p needs S rows of the positions within ww+1 of p in
 * row-major order, plus (for the first and last row) a few positions at
 * the other end of the map. Rows near p live in a ring buffer that slides
 * with the chunk; the far-end rows are computed once.
 */
#include "attention.h"

#include "../cpu/fpu.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
static int omp_thread(void) { return omp_get_thread_num(); }
#else
static int omp_thread(void) { return 0; }
#endif

#define DEFAULT_BUDGET ((size_t)32 << 20)
/* Each chunk streams Wn^T (9c x P) through the matching GEMM and R (valid
 * patches x 16c) through the paste GEMM: below a few hundred queries per
 * chunk both become memory-bound at large P (seen at 1920x1080: 36 s with
 * 64, most of it waiting on memory). 512 costs about 1 KB x P of memory. */
#define MIN_CHUNK 512

typedef struct layout {
    int32_t hh, ww, P, k9, k16;
    int32_t chunk, cap;        /* query positions per chunk, ring rows */
    int32_t wlo_n, whi_base;   /* far-end rows: [0, wlo_n) and [whi_base, P) */
    size_t o_ri, o_ci, o_cidx, o_valid, o_x, o_wnt, o_r, o_ring, o_wlo, o_whi,
        o_a, o_cols, o_tmp, o_need, o_slot, total;
} layout;

static size_t carve(size_t *off, size_t bytes) {
    size_t at = *off;
    *off += (bytes + 63) & ~(size_t)63;
    return at;
}

static void plan(const gi_attention_args *a, layout *L) {
    L->hh = a->h / 2;
    L->ww = a->w / 2;
    L->P = L->hh * L->ww;
    L->k9 = 9 * a->c;
    L->k16 = 16 * a->c;
    const int32_t P = L->P, ww = L->ww;
    int32_t halo = a->fuse ? 2 * ww + 2 : 0;
    size_t budget = a->budget_bytes ? a->budget_bytes : DEFAULT_BUDGET;
    /* ring (chunk + halo rows) and softmax weights (chunk rows), P floats each */
    size_t rows = budget / ((size_t)P * sizeof(float));
    int64_t chunk = rows > (size_t)halo ? (int64_t)(rows - halo) / 2 : 0;
    /* An explicit budget is obeyed down to one query per chunk (tests use
     * this to exercise chunking); the default keeps GEMMs reasonably tall. */
    int64_t min_chunk = a->budget_bytes ? 1 : MIN_CHUNK;
    if (chunk < min_chunk) chunk = min_chunk;
    if (chunk > P) chunk = P;
    L->chunk = (int32_t)chunk;
    L->cap = (int32_t)chunk + halo;
    if (L->cap > P) L->cap = P;
    L->wlo_n = a->fuse ? (ww + 2 < P ? ww + 2 : P) : 0;
    L->whi_base = a->fuse ? (P - ww - 2 > 0 ? P - ww - 2 : 0) : P;

    size_t off = 0, f = sizeof(float), i = sizeof(int32_t);
    L->o_ri = carve(&off, (size_t)L->hh * i);
    L->o_ci = carve(&off, (size_t)L->ww * i);
    L->o_cidx = carve(&off, 3 * (size_t)P * i);
    L->o_valid = carve(&off, (size_t)P * i);
    L->o_x = carve(&off, (size_t)P * L->k9 * f);
    L->o_wnt = carve(&off, (size_t)L->k9 * P * f);
    L->o_r = carve(&off, (size_t)P * L->k16 * f);
    L->o_ring = carve(&off, (size_t)L->cap * P * f);
    L->o_wlo = carve(&off, (size_t)L->wlo_n * P * f);
    L->o_whi = carve(&off, (size_t)(P - L->whi_base) * P * f);
    L->o_a = carve(&off, (size_t)L->chunk * P * f);
    L->o_cols = carve(&off, (size_t)L->chunk * L->k16 * f);
    L->o_tmp = carve(&off, (size_t)a->nthreads * 2 * P * f);
    L->o_need = carve(&off, (size_t)P);
    L->o_slot = carve(&off, (size_t)L->chunk * i);
    L->total = off;
}

size_t gi_attention_workspace(const gi_attention_args *a) {
    layout L;
    plan(a, &L);
    return L.total;
}

/* TF 1.x resize_nearest_neighbor with align_corners=True (reference 4.2). */
void gi_tf_nn_index(int32_t in, int32_t out, int32_t *idx) {
    float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    for (int32_t i = 0; i < out; i++) {
        long s = (long)roundf((float)i * scale);
        idx[i] = (int32_t)(s < in - 1 ? s : in - 1);
    }
}

/* C = A B with the columns split across threads (each element's sum keeps
 * its order, so the result does not depend on the thread count). */
static void par_gemm(const gi_kernels *k, int nt, int32_t m, int32_t n, int32_t kd,
                     const float *a, size_t lda, const float *b, size_t ldb, float *c,
                     size_t ldc) {
    if (m <= 0 || n <= 0) return;
    int32_t nb = (n + nt - 1) / nt;
    nb = (nb + 15) & ~15;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t j0 = 0; j0 < n; j0 += nb) {
        int32_t nj = n - j0 < nb ? n - j0 : nb;
        gi_fpu fpu = gi_fpu_enter();
        k->gemm_ab(m, nj, kd, a, lda, b + j0, ldb, c + j0, ldc);
        gi_fpu_leave(fpu);
    }
}

typedef struct state {
    const gi_attention_args *a;
    const layout *L;
    const int32_t *cidx, *valid;
    const float *x, *wnt;
    float *ring, *wlo, *whi;
    const uint8_t *need; /* score rows some wanted query reads */
    int32_t lo, hi;      /* positions currently held by the ring */
} state;

static const float *score_row(const state *s, int32_t pos) {
    const int32_t P = s->L->P;
    if (pos >= s->lo && pos < s->hi) return s->ring + (size_t)(pos % s->L->cap) * P;
    if (pos < s->L->wlo_n) return s->wlo + (size_t)pos * P;
    return s->whi + (size_t)(pos - s->L->whi_base) * P;
}

/* Score rows of the needed positions in [from, to): rows of X times Wn^T,
 * position pos going to dst(pos) = base + (pos - first) * P, or into the
 * ring (which wraps at cap) when ring is set. */
static void fill_rows(state *s, int32_t from, int32_t to, float *base, int32_t first,
                      int ring) {
    const layout *L = s->L;
    while (from < to) {
        while (from < to && !s->need[from]) from++;
        int32_t end = from;
        while (end < to && s->need[end]) end++;
        if (ring && end - from > L->cap - from % L->cap) end = from + L->cap - from % L->cap;
        if (end > from) {
            float *dst = ring ? s->ring + (size_t)(from % L->cap) * L->P
                              : base + (size_t)(from - first) * L->P;
            par_gemm(s->a->k, s->a->nthreads, end - from, L->P, L->k9,
                     s->x + (size_t)from * L->k9, L->k9, s->wnt, L->P, dst, L->P);
        }
        from = end;
    }
}

/* Row x of the row-major fused scores: S1[x][y] = S[x-1][y-1] + S[x][y] +
 * S[x+1][y+1], terms outside the matrix dropped (reference 4.1 step 6). */
static void fuse_rows(const state *s, int32_t x, float *t) {
    const int32_t P = s->L->P;
    memset(t, 0, (size_t)P * sizeof *t);
    for (int d = -1; d <= 1; d++) {
        int32_t r = x + d;
        if (r < 0 || r >= P) continue;
        const float *row = score_row(s, r);
        int32_t y0 = d < 0 ? 1 : 0, y1 = d > 0 ? P - 1 : P;
        for (int32_t y = y0; y < y1; y++) t[y] += row[y + d];
    }
}

/* Scores of query p, fused (if enabled), masked and scaled, then the softmax
 * over the valid background patches: arow[v] for valid[v]. Hole patches take
 * logit 0 (reference 4.1 step 7). `tmp` holds 2 * P floats. */
static void softmax_row(const state *s, int32_t p, int32_t nvalid, float *arow, float *tmp) {
    const gi_attention_args *a = s->a;
    const int32_t P = s->L->P, ww = s->L->ww, hh = s->L->hh;
    float *z = tmp, *t = tmp + P;
    if (!a->fuse) {
        memcpy(z, score_row(s, p), (size_t)P * sizeof *z);
    } else {
        /* Column-major pass: S2[p][q] = sum over e of S1[c_e(p)][c_e(q)], where
         * c_e moves one row up (e = 0) / down (e = 2) in column-major order,
         * wrapping to the previous / next column at the top / bottom. */
        memset(z, 0, (size_t)P * sizeof *z);
        int32_t pe0 = s->cidx[p], pe2 = s->cidx[2 * (size_t)P + p];
        if (pe0 >= 0) {
            fuse_rows(s, pe0, t);
            for (int32_t q = ww; q < P; q++) z[q] += t[q - ww];
            for (int32_t q = 1; q < ww && q < P; q++) z[q] += t[(hh - 1) * ww + q - 1];
        }
        fuse_rows(s, p, t);
        for (int32_t q = 0; q < P; q++) z[q] += t[q];
        if (pe2 >= 0) {
            fuse_rows(s, pe2, t);
            for (int32_t q = 0; q < P - ww; q++) z[q] += t[q + ww];
            for (int32_t q = P - ww; q < P - 1; q++) z[q] += t[q - (hh - 1) * ww + 1];
        }
    }
    float mx = -INFINITY;
    for (int32_t v = 0; v < nvalid; v++) {
        float zv = z[s->valid[v]] * a->softmax_scale;
        arow[v] = zv;
        mx = zv > mx ? zv : mx;
    }
    int32_t ninvalid = P - nvalid;
    if (ninvalid > 0 && mx < 0.0f) mx = 0.0f;
    float denom = 0.0f;
    for (int32_t v = 0; v < nvalid; v++) {
        float e = expf(arow[v] - mx);
        arow[v] = e;
        denom += e;
    }
    denom += (float)ninvalid * expf(-mx);
    for (int32_t v = 0; v < nvalid; v++) arow[v] /= denom;
}

/* Add the pasted 4x4 patches of queries [p0, p1) into y (transposed conv,
 * stride 2, crop 1). Threads own output rows, so sums keep their order. */
static void fold(const gi_attention_args *a, const layout *L, int32_t p0, int32_t p1,
                 const float *cols, const int32_t *slot) {
    const int32_t c = a->c, ww = L->ww;
    int32_t fy_a = p0 / ww, fy_b = (p1 - 1) / ww;
    int32_t oy0 = 2 * fy_a - 1 < 0 ? 0 : 2 * fy_a - 1;
    int32_t oy1 = 2 * fy_b + 3 > a->h ? a->h : 2 * fy_b + 3;
#pragma omp parallel for num_threads(a->nthreads) schedule(static)
    for (int32_t oy = oy0; oy < oy1; oy++) {
        float *yrow = a->y + (size_t)oy * a->w * c;
        for (int32_t ky = 0; ky < 4; ky++) {
            int32_t t = oy + 1 - ky;
            if (t < 0 || (t & 1)) continue;
            int32_t fy = t / 2;
            if (fy < fy_a || fy > fy_b) continue;
            int32_t fx0 = p0 - fy * ww > 0 ? p0 - fy * ww : 0;
            int32_t fx1 = p1 - fy * ww < ww ? p1 - fy * ww : ww;
            for (int32_t fx = fx0; fx < fx1; fx++) {
                int32_t at = slot[fy * ww + fx - p0];
                if (at < 0) continue; /* a query nobody reads */
                const float *col = cols + (size_t)at * L->k16;
                for (int32_t kx = 0; kx < 4; kx++) {
                    int32_t ox = 2 * fx - 1 + kx;
                    if (ox < 0 || ox >= a->w) continue;
                    const float *src = col + (size_t)(ky * 4 + kx) * c;
                    float *dst = yrow + (size_t)ox * c;
                    for (int32_t ch = 0; ch < c; ch++) dst[ch] += src[ch];
                }
            }
        }
    }
}

/* Does query p's 4x4 paste footprint touch the hole? */
static int query_in_hole(const gi_attention_args *a, const layout *L, int32_t p) {
    if (!a->mask) return 0;
    int32_t fy = p / L->ww, fx = p % L->ww;
    for (int32_t y = 2 * fy - 1; y <= 2 * fy + 2; y++)
        for (int32_t x = 2 * fx - 1; x <= 2 * fx + 2; x++)
            if (y >= 0 && y < a->h && x >= 0 && x < a->w && a->mask[(size_t)y * a->w + x] != 0.0f)
                return 1;
    return 0;
}

static inline int32_t clampi(int32_t i, int32_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

/* Bartlett window of the aux paste: side 4S, hop 2S; overlapping copies sum
 * to 1 (COLA), so the aux map needs no normalisation and keeps its
 * amplitude at each patch centre. */
static float tent(int32_t i, int32_t S) {
    float d = (float)i + 0.5f, e = (float)(4 * S) - d;
    return (d < e ? d : e) / (float)(2 * S);
}

/* The aux paste of the chunk's queries (the residual aggregation): query p
 * copies the aux patch of its strongest background patch, weighted by the
 * window, into its footprint of aux_y. The strongest match rather than the
 * weighted mean: a mean of many patches averages their textures away.
 * Queries are taken in four phases by (row, column) parity: within a phase
 * no two footprints overlap, so threads never write the same pixel and
 * every sum keeps its order. */
static void paste_aux(const gi_attention_args *a, const layout *L, int32_t p0, int32_t p1,
                      const int32_t *slot, const float *A, int32_t nvalid, const int32_t *valid) {
    const int32_t S = a->aux_scale, side = 4 * S, c = a->aux_c, ww = L->ww;
    for (int phase = 0; phase < 4; phase++) {
#pragma omp parallel for num_threads(a->nthreads) schedule(dynamic, 1)
        for (int32_t p = p0; p < p1; p++) {
            int32_t fy = p / ww, fx = p % ww;
            if (slot[p - p0] < 0 || ((fy & 1) << 1 | (fx & 1)) != phase) continue;
            if (!query_in_hole(a, L, p)) continue;
            const float *arow = A + (size_t)slot[p - p0] * nvalid;
            int32_t best = -1;
            float wbest = GI_AUX_MIN_WEIGHT;
            for (int32_t v = 0; v < nvalid; v++)
                if (arow[v] > wbest) wbest = arow[v], best = v;
            if (best < 0) continue;
            int32_t oy0 = S * (2 * fy - 1), ox0 = S * (2 * fx - 1);
            int32_t q = valid[best], iy0 = S * (2 * (q / ww) - 1), ix0 = S * (2 * (q % ww) - 1);
            /* source pixels past the map's edge repeat the edge: a patch at
             * the border is copied whole, not with a dark margin */
            for (int32_t dy = 0; dy < side; dy++) {
                int32_t oy = oy0 + dy, iy = clampi(iy0 + dy, a->aux_h);
                if (oy < 0 || oy >= a->aux_h) continue;
                float wy = tent(dy, S);
                for (int32_t dx = 0; dx < side; dx++) {
                    int32_t ox = ox0 + dx, ix = clampi(ix0 + dx, a->aux_w);
                    if (ox < 0 || ox >= a->aux_w) continue;
                    float wgt = wy * tent(dx, S);
                    float *dst = a->aux_y + ((size_t)oy * a->aux_w + ox) * c;
                    const float *src = a->aux + ((size_t)iy * a->aux_w + ix) * c;
                    for (int32_t ch = 0; ch < c; ch++) dst[ch] += wgt * src[ch];
                }
            }
        }
    }
}

void gi_attention_run(const gi_attention_args *a, void *ws) {
    layout L;
    plan(a, &L);
    uint8_t *base = ws;
    int32_t *ri = (int32_t *)(base + L.o_ri), *ci = (int32_t *)(base + L.o_ci);
    int32_t *cidx = (int32_t *)(base + L.o_cidx), *valid = (int32_t *)(base + L.o_valid);
    float *x = (float *)(base + L.o_x), *wnt = (float *)(base + L.o_wnt);
    float *r = (float *)(base + L.o_r), *A = (float *)(base + L.o_a);
    float *cols = (float *)(base + L.o_cols);
    const int32_t hh = L.hh, ww = L.ww, P = L.P, c = a->c, nt = a->nthreads;

    gi_tf_nn_index(a->h, hh, ri);
    gi_tf_nn_index(a->w, ww, ci);

    /* Valid background patches: 3x3 window of the twice-resized mask all 0
     * (zero padding counts as known). */
    int32_t nvalid = 0;
    for (int32_t q = 0; q < P; q++) {
        int32_t by = q / ww, bx = q % ww, ok = 1;
        for (int32_t dy = -1; dy <= 1 && ok && a->mask; dy++)
            for (int32_t dx = -1; dx <= 1; dx++) {
                int32_t y = by + dy, xx = bx + dx;
                if (y < 0 || y >= hh || xx < 0 || xx >= ww) continue;
                if (a->mask[(size_t)ri[y] * a->w + ci[xx]] != 0.0f) ok = 0;
            }
        if (ok) valid[nvalid++] = q;
    }

    /* Column-major neighbours (one row up / same / one row down, wrapping). */
    for (int32_t q = 0; q < P; q++) {
        int32_t fy = q / ww, fx = q % ww;
        cidx[q] = fy > 0 ? q - ww : (fx >= 1 ? (hh - 1) * ww + fx - 1 : -1);
        cidx[(size_t)P + q] = q;
        cidx[2 * (size_t)P + q] = fy < hh - 1 ? q + ww : (fx + 1 < ww ? fx + 1 : -1);
    }

    /* Matching patches X and their normalised transpose Wn^T (9c x P). */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t q = 0; q < P; q++) {
        int32_t by = q / ww, bx = q % ww;
        float *xq = x + (size_t)q * L.k9;
        for (int32_t ky = 0; ky < 3; ky++)
            for (int32_t kx = 0; kx < 3; kx++) {
                int32_t y = by - 1 + ky, xx = bx - 1 + kx;
                float *dst = xq + (size_t)(ky * 3 + kx) * c;
                if (y < 0 || y >= hh || xx < 0 || xx >= ww)
                    memset(dst, 0, (size_t)c * sizeof *dst);
                else
                    memcpy(dst, a->f + ((size_t)ri[y] * a->w + ci[xx]) * c,
                           (size_t)c * sizeof *dst);
            }
        float ss = 0.0f;
        for (int32_t k = 0; k < L.k9; k++) ss += xq[k] * xq[k];
        float norm = sqrtf(ss);
        if (norm < 1e-4f) norm = 1e-4f;
        for (int32_t k = 0; k < L.k9; k++) wnt[(size_t)k * P + q] = xq[k] / norm;
    }

    /* Raw 4x4 paste patches of the valid background positions. */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int32_t v = 0; v < nvalid; v++) {
        int32_t q = valid[v], by = q / ww, bx = q % ww;
        float *rq = r + (size_t)v * L.k16;
        for (int32_t ky = 0; ky < 4; ky++)
            for (int32_t kx = 0; kx < 4; kx++) {
                int32_t y = 2 * by - 1 + ky, xx = 2 * bx - 1 + kx;
                float *dst = rq + (size_t)(ky * 4 + kx) * c;
                if (y < 0 || y >= a->h || xx < 0 || xx >= a->w)
                    memset(dst, 0, (size_t)c * sizeof *dst);
                else
                    memcpy(dst, a->f + ((size_t)y * a->w + xx) * c, (size_t)c * sizeof *dst);
            }
    }

    /* Score rows the wanted queries read: their own and, with fusion, those
     * of their row-major and column-major neighbours. */
    uint8_t *need = base + L.o_need;
    if (!a->queries) {
        memset(need, 1, (size_t)P);
    } else {
        memset(need, 0, (size_t)P);
        for (int32_t p = 0; p < P; p++) {
            if (!a->queries[p]) continue;
            for (int e = 0; e < 3; e++) {
                int32_t pe = cidx[(size_t)e * P + p];
                if (pe < 0 || (!a->fuse && e != 1)) continue;
                for (int32_t r0 = pe - a->fuse; r0 <= pe + a->fuse; r0++)
                    if (r0 >= 0 && r0 < P) need[r0] = 1;
            }
        }
    }
    state s = {a, &L, cidx, valid, x, wnt, (float *)(base + L.o_ring),
               (float *)(base + L.o_wlo), (float *)(base + L.o_whi), need, 0, 0};
    /* Far-end rows for the wrap-around of the column-major fusion. */
    fill_rows(&s, 0, L.wlo_n, s.wlo, 0, 0);
    fill_rows(&s, L.whi_base, P, s.whi, L.whi_base, 0);

    memset(a->y, 0, (size_t)a->h * a->w * c * sizeof *a->y);
    if (a->aux)
        memset(a->aux_y, 0, (size_t)a->aux_h * a->aux_w * a->aux_c * sizeof *a->aux_y);
    int32_t halo = a->fuse ? ww + 1 : 0;
    int32_t *slot = (int32_t *)(base + L.o_slot);
    for (int32_t p0 = 0; p0 < P; p0 += L.chunk) {
        int32_t p1 = p0 + L.chunk < P ? p0 + L.chunk : P;
        /* the chunk's wanted queries, packed: slot[p - p0] = row in A / cols */
        int32_t nq = 0;
        for (int32_t p = p0; p < p1; p++) {
            int want = !a->queries || a->queries[p];
            slot[p - p0] = want ? nq : -1;
            if (want) nq++;
        }
        if (nq == 0) continue;
        int32_t lo = p0 - halo > 0 ? p0 - halo : 0;
        int32_t hi = p1 + halo < P ? p1 + halo : P;
        fill_rows(&s, s.hi > lo ? s.hi : lo, hi, NULL, 0, 1);
        s.lo = lo;
        s.hi = hi;
#pragma omp parallel num_threads(nt)
        {
            float *tmp = (float *)(base + L.o_tmp) + (size_t)omp_thread() * 2 * P;
            gi_fpu fpu = gi_fpu_enter(); /* tiny weights become 0, not denormals */
#pragma omp for schedule(static)
            for (int32_t p = p0; p < p1; p++)
                if (slot[p - p0] >= 0)
                    softmax_row(&s, p, nvalid, A + (size_t)slot[p - p0] * nvalid, tmp);
            gi_fpu_leave(fpu);
        }
        par_gemm(a->k, nt, nq, L.k16, nvalid, A, nvalid, r, L.k16, cols, L.k16);
        fold(a, &L, p0, p1, cols, slot);
        if (a->aux) paste_aux(a, &L, p0, p1, slot, A, nvalid, valid);
    }
    size_t n = (size_t)a->h * a->w * c;
    for (size_t i = 0; i < n; i++) a->y[i] *= 0.25f;

}
