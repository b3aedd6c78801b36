/* Concurrency: T threads x S sessions over one shared model, each thread
 * inpainting different images for many calls; every result must equal the
 * single-threaded reference bit for bit. Also: the model's first use (weight
 * packing) raced by all threads at once, sessions and model references
 * created and destroyed concurrently, the last model reference dropped by
 * whichever thread is last, and cancellation from the progress callback at
 * random points (out untouched, session reusable, nothing leaked).
 * Run under ThreadSanitizer, ASan and valgrind by tools/run-tests.sh.
 *
 * Environment: GI_STRESS_THREADS (default 4), GI_STRESS_CALLS (calls per
 * thread in the main phase, default 500), GI_STRESS_OMP (OpenMP threads per
 * session: 1, or 2 for half of them; default 2). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/gguf_builder.h"
#include "gatedinpaint.h"

#define N_INPUTS 6
#define SESSIONS_PER_THREAD 2

static int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static int n_threads, n_calls, omp_threads;
static atomic_int failures;
static uint8_t *model_data;
static size_t model_size;

#define FAIL(...)                                 \
    do {                                          \
        atomic_fetch_add(&failures, 1);           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);    \
        fputc('\n', stderr);                      \
    } while (0)

typedef struct input {
    int h, w, c;
    gi_tensor *img, *mask, *ref;
} input;
static input inputs[N_INPUTS];

static gi_tensor *make(int h, int w, int c, uint32_t seed, int mask) {
    gi_tensor *t = NULL;
    if (gi_tensor_create(GI_DTYPE_U8, h, w, c, &t) != GI_OK) return NULL;
    uint8_t *p = gi_tensor_data(t);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * c; x++) {
            seed = seed * 1664525u + 1013904223u;
            int px = x / c;
            p[y * w * c + x] = mask ? ((y > h / 4 && y < h / 2 + 3 && px > w / 3) ? 255 : 0)
                                    : (uint8_t)(seed >> 24);
        }
    return t;
}

static gi_model *load_model(void) {
    gi_model *m = NULL;
    if (gi_model_load_memory(model_data, model_size, &m) != GI_OK)
        FAIL("model load: %s", gi_last_error());
    return m;
}

static int same(const gi_tensor *a, const gi_tensor *b, int h, int w, int c) {
    return memcmp(gi_tensor_data((gi_tensor *)a), gi_tensor_data((gi_tensor *)b),
                  (size_t)h * w * c) == 0;
}

/* ---- phase 1: many calls, shared model, compared with the reference ---- */

static gi_model *shared_model;
static pthread_barrier_t barrier;

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    gi_session *s[SESSIONS_PER_THREAD] = {0};
    for (int k = 0; k < SESSIONS_PER_THREAD; k++) {
        if (gi_session_create(shared_model, &s[k]) != GI_OK) {
            FAIL("thread %d: session: %s", id, gi_last_error());
            return NULL;
        }
        int nt = omp_threads > 1 && (id + k) % 2 ? omp_threads : 1;
        gi_session_set_int(s[k], GI_OPT_NUM_THREADS, nt);
    }
    gi_tensor *out[N_INPUTS] = {0};
    for (int i = 0; i < N_INPUTS; i++)
        gi_tensor_create(GI_DTYPE_U8, inputs[i].h, inputs[i].w, inputs[i].c, &out[i]);
    pthread_barrier_wait(&barrier); /* everyone's first call races the packing */
    for (int call = 0; call < n_calls && atomic_load(&failures) < 10; call++) {
        int i = (call * 5 + id * 3) % N_INPUTS;
        input *in = &inputs[i];
        gi_status st = gi_inpaint(s[call % SESSIONS_PER_THREAD], in->img, in->mask, NULL, out[i]);
        if (st != GI_OK)
            FAIL("thread %d call %d: %s", id, call, gi_last_error());
        else if (!same(out[i], in->ref, in->h, in->w, in->c))
            FAIL("thread %d call %d: input %d differs from the single-threaded result", id,
                 call, i);
    }
    for (int i = 0; i < N_INPUTS; i++) gi_tensor_destroy(out[i]);
    for (int k = 0; k < SESSIONS_PER_THREAD; k++) gi_session_destroy(s[k]);
    return NULL;
}

/* ---- phase 2: sessions and model references come and go ---------------- */

static void *churn(void *arg) {
    int id = (int)(intptr_t)arg;
    gi_model *m = shared_model; /* a reference main took for this thread */
    input *in = &inputs[id % N_INPUTS];
    gi_tensor *out = NULL;
    gi_tensor_create(GI_DTYPE_U8, in->h, in->w, in->c, &out);
    pthread_barrier_wait(&barrier);
    int rounds = n_calls < 20 ? n_calls : 20;
    for (int r = 0; r < rounds; r++) {
        gi_session *s = NULL;
        if (gi_session_create(m, &s) != GI_OK) {
            FAIL("churn %d: %s", id, gi_last_error());
            break;
        }
        gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
        if (r % 5 == id % 5) {
            if (gi_inpaint(s, in->img, in->mask, NULL, out) != GI_OK ||
                !same(out, in->ref, in->h, in->w, in->c))
                FAIL("churn %d: inpaint", id);
        }
        gi_session_destroy(s);
        /* model references too, including loading and dropping whole models */
        gi_model_release(gi_model_retain(m));
        if (r % 7 == 0) gi_model_release(load_model());
    }
    gi_tensor_destroy(out);
    gi_model_release(m); /* the last of these frees the model */
    return NULL;
}

/* ---- phase 3: cancellation at random points ----------------------------- */

typedef struct cancel_state {
    int calls, cancel_at;
} cancel_state;

static int32_t cancel_cb(void *user, float done, const char *stage) {
    cancel_state *c = user;
    (void)done;
    (void)stage;
    return ++c->calls == c->cancel_at;
}

static void *canceller(void *arg) {
    int id = (int)(intptr_t)arg;
    unsigned seed = 1234u + (unsigned)id;
    gi_session *s = NULL;
    if (gi_session_create(shared_model, &s) != GI_OK) return NULL;
    gi_session_set_int(s, GI_OPT_NUM_THREADS, omp_threads > 1 && id % 2 ? omp_threads : 1);
    int rounds = n_calls / 10 + 3, cancelled = 0;
    for (int r = 0; r < rounds; r++) {
        input *in = &inputs[(r + id) % N_INPUTS];
        gi_tensor *out = NULL;
        gi_tensor_create(GI_DTYPE_U8, in->h, in->w, in->c, &out);
        memset(gi_tensor_data(out), 0x5a, (size_t)in->h * in->w * in->c);
        cancel_state cs = {0, 1 + (int)(rand_r(&seed) % 60)}; /* ~45 callbacks per call */
        gi_session_set_progress(s, cancel_cb, &cs);
        gi_status st = gi_inpaint(s, in->img, in->mask, NULL, out);
        const uint8_t *o = gi_tensor_data(out);
        if (st == GI_E_CANCELLED) {
            cancelled++;
            for (size_t k = 0; k < (size_t)in->h * in->w * in->c; k++)
                if (o[k] != 0x5a) {
                    FAIL("canceller %d: a cancelled call wrote out", id);
                    break;
                }
        } else if (st != GI_OK || !same(out, in->ref, in->h, in->w, in->c)) {
            FAIL("canceller %d: %d %s", id, (int)st, gi_last_error());
        }
        gi_session_set_progress(s, NULL, NULL);
        if (gi_inpaint(s, in->img, in->mask, NULL, out) != GI_OK ||
            !same(out, in->ref, in->h, in->w, in->c))
            FAIL("canceller %d: the session is not usable after a cancelled call", id);
        gi_tensor_destroy(out);
    }
    if (cancelled == 0) FAIL("canceller %d: nothing was ever cancelled", id);
    gi_session_destroy(s);
    return NULL;
}

static void run_threads(void *(*fn)(void *), int n) {
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(t);
}

int main(void) {
    n_threads = env_int("GI_STRESS_THREADS", 4);
    n_calls = env_int("GI_STRESS_CALLS", 500);
    omp_threads = env_int("GI_STRESS_OMP", 2);
    tb_file *f = tb_model(4, 0, 0);
    model_data = tb_serialize(f, &model_size, NULL);
    tb_free(f);

    /* Single-threaded references, on a model of their own. */
    static const int shapes[N_INPUTS][3] = {{16, 16, 3}, {24, 40, 4}, {37, 29, 3},
                                            {16, 64, 3}, {48, 17, 4}, {32, 32, 3}};
    gi_model *m = load_model();
    gi_session *s = NULL;
    gi_session_create(m, &s);
    gi_session_set_int(s, GI_OPT_NUM_THREADS, 1);
    for (int i = 0; i < N_INPUTS; i++) {
        input *in = &inputs[i];
        in->h = shapes[i][0], in->w = shapes[i][1], in->c = shapes[i][2];
        in->img = make(in->h, in->w, in->c, 77u + (uint32_t)i, 0);
        in->mask = make(in->h, in->w, 1, 0, 1);
        gi_tensor_create(GI_DTYPE_U8, in->h, in->w, in->c, &in->ref);
        if (gi_inpaint(s, in->img, in->mask, NULL, in->ref) != GI_OK)
            FAIL("reference %d: %s", i, gi_last_error());
    }
    gi_session_destroy(s);
    gi_model_release(m);

    shared_model = load_model(); /* fresh: no packed weights yet */
    run_threads(worker, n_threads);
    printf("phase 1: %d threads x %d sessions, %d calls: %s\n", n_threads,
           SESSIONS_PER_THREAD, n_threads * n_calls, failures ? "FAILED" : "identical");
    run_threads(canceller, n_threads);
    printf("phase 3: cancellation at random points: %s\n", failures ? "FAILED" : "ok");
    /* phase 2 last: one reference per churn thread, main's own dropped
     * before they start, so whichever thread ends last frees the model */
    for (int i = 0; i < n_threads; i++) gi_model_retain(shared_model);
    gi_model_release(shared_model);
    run_threads(churn, n_threads);
    printf("phase 2: concurrent session/model create and destroy: %s\n",
           failures ? "FAILED" : "ok");

    for (int i = 0; i < N_INPUTS; i++) {
        gi_tensor_destroy(inputs[i].img);
        gi_tensor_destroy(inputs[i].mask);
        gi_tensor_destroy(inputs[i].ref);
    }
    free(model_data);
    printf("%d failures\n", atomic_load(&failures));
    return failures ? 1 : 0;
}
