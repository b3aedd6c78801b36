/* Whole-network benchmark: gi_inpaint() per image size, instruction set and
 * thread count, with the time of every step (from the progress callback),
 * G multiply-adds per second, the share of the machine's FMA peak measured
 * in the same process, and the peak RSS of each configuration (each one runs
 * in a child process of its own).
 *
 *   gi_bench --model M.gguf [--sizes 256x256,512x512] [--threads 1,2]
 *            [--isa scalar,avx2,avx512] [--repeat 3] [--layers]
 *
 * Prints Markdown tables (docs/PERFORMANCE.md). Not a test: timings on a
 * shared machine are noisy; compare rows from the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu/dispatch.h"
#include "fma_peak.h"
#include "gatedinpaint.h"
#include "families/deepfill_v2.h"
#include "model/model.h"

#define MAX_LIST 8

typedef struct config {
    int h, w, threads;
    int32_t isa;
    const char *isa_name;
} config;

typedef struct result {
    double seconds, gmacs, peak_gflops, hole_share;
    double step_seconds[GI_DF_NUM_STEPS];
} result;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Progress callback: the time each step ends. */
typedef struct clock_log {
    double start, at[GI_DF_NUM_STEPS + 1];
    int n;
} clock_log;

static int32_t on_step(void *user, float done, const char *stage) {
    clock_log *c = user;
    (void)done, (void)stage;
    if (c->n < GI_DF_NUM_STEPS + 1) c->at[c->n++] = now();
    return 0;
}

/* A smooth picture with texture, and free-form strokes covering ~10%. */
static void make_inputs(int h, int w, uint8_t *img, uint8_t *mask, double *hole_share) {
    uint32_t s = 2463534242u;
    long holes = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            for (int c = 0; c < 3; c++)
                img[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)((x * (c + 1) * 255 / w + y * (3 - c) * 255 / h) / 4 + (s >> (8 * c) & 31));
            /* three diagonal strokes and a box */
            int r = (h < w ? h : w) / 40 + 2, hole = 0;
            for (int k = 1; k <= 3; k++) {
                int d = (x - k * w / 4) - (y - h / 2) * (k - 2);
                hole |= d > -r && d < r && y > h / 6 && y < h * 5 / 6;
            }
            hole |= x > w / 12 && x < w / 6 && y > h / 10 && y < h / 4;
            mask[(size_t)y * w + x] = hole ? 255 : 0;
            holes += hole;
        }
    *hole_share = (double)holes / ((double)h * w);
}

static int run_config(const char *model_path, const config *c, int repeat, result *r) {
    gi_model *m = NULL;
    gi_session *s = NULL;
    if (gi_model_load_file(model_path, &m) || gi_session_create(m, &s) ||
        gi_session_set_int(s, GI_OPT_NUM_THREADS, c->threads) ||
        gi_session_set_int(s, GI_OPT_MAX_ISA, c->isa) ||
        gi_session_set_int(s, GI_OPT_STRATEGY, GI_STRATEGY_EXACT)) { /* the whole network */
        fprintf(stderr, "gi_bench: %s\n", gi_last_error());
        return 1;
    }
    if (m->family != &gi_family_deepfill_v2) { /* the per-layer table is DeepFill's */
        fprintf(stderr, "gi_bench: %s is not a deepfill_v2 model\n", model_path);
        return 1;
    }
    int64_t isa = -1;
    gi_session_get_int(s, GI_OPT_ISA, &isa);
    if (isa != c->isa) {
        fprintf(stderr, "gi_bench: %s is not available here\n", c->isa_name);
        return 1;
    }
    uint8_t *img = malloc((size_t)c->h * c->w * 3), *mask = malloc((size_t)c->h * c->w);
    uint8_t *out = malloc((size_t)c->h * c->w * 3);
    make_inputs(c->h, c->w, img, mask, &r->hole_share);
    gi_tensor *ti, *tm, *to;
    gi_tensor_wrap(GI_DTYPE_U8, c->h, c->w, 3, img, (size_t)c->w * 3, &ti);
    gi_tensor_wrap(GI_DTYPE_U8, c->h, c->w, 1, mask, (size_t)c->w, &tm);
    gi_tensor_wrap(GI_DTYPE_U8, c->h, c->w, 3, out, (size_t)c->w * 3, &to);
    clock_log log;
    gi_session_set_progress(s, on_step, &log);
    if (gi_inpaint(s, ti, tm, NULL, to)) { /* warm-up: packing, allocation */
        fprintf(stderr, "gi_bench: %s\n", gi_last_error());
        return 1;
    }
    r->peak_gflops = gi_fma_peak_gflops(gi_cpu_detected_isa(), c->threads);
    double times[16], steps[16][GI_DF_NUM_STEPS];
    if (repeat > 16) repeat = 16;
    for (int i = 0; i < repeat; i++) {
        log.n = 0;
        log.start = now();
        gi_inpaint(s, ti, tm, NULL, to);
        double end = now();
        times[i] = end - log.start;
        for (int k = 0; k < GI_DF_NUM_STEPS; k++)
            steps[i][k] = k < log.n ? log.at[k] - (k ? log.at[k - 1] : log.start) : 0;
    }
    /* the median run, and its steps */
    int med = 0;
    for (int i = 0; i < repeat; i++) {
        int below = 0;
        for (int j = 0; j < repeat; j++) below += times[j] < times[i];
        if (below == repeat / 2) med = i;
    }
    r->seconds = times[med];
    memcpy(r->step_seconds, steps[med], sizeof r->step_seconds);
    double macs[GI_DF_NUM_STEPS];
    const char *names[GI_DF_NUM_STEPS];
    int n = gi_deepfill_steps(m->state, (c->h + 7) / 8 * 8, (c->w + 7) / 8 * 8, macs, names);
    r->gmacs = 0;
    for (int k = 0; k < n; k++) r->gmacs += macs[k] * 1e-9;
    gi_tensor_destroy(ti), gi_tensor_destroy(tm), gi_tensor_destroy(to);
    free(img), free(mask), free(out);
    gi_session_destroy(s);
    gi_model_release(m);
    return 0;
}

static void print_steps(const char *model_path, const config *c, const result *r) {
    gi_model *m = NULL;
    if (gi_model_load_file(model_path, &m)) return;
    double macs[GI_DF_NUM_STEPS];
    const char *names[GI_DF_NUM_STEPS];
    int n = gi_deepfill_steps(m->state, (c->h + 7) / 8 * 8, (c->w + 7) / 8 * 8, macs, names);
    printf("\n%dx%d, %s, %d thread(s): %.3f s\n\n", c->w, c->h, c->isa_name, c->threads,
           r->seconds);
    printf("| step | layer | ms | GMAC | GMAC/s | %% of FMA peak |\n|---:|---|---:|---:|---:|---:|\n");
    for (int k = 0; k < n; k++) {
        double g = r->step_seconds[k] > 0 ? macs[k] * 1e-9 / r->step_seconds[k] : 0;
        printf("| %d | %s | %.1f | %.2f | %.1f | %.0f%% |\n", k + 1, names[k],
               r->step_seconds[k] * 1e3, macs[k] * 1e-9, g, 200 * g / r->peak_gflops);
    }
    gi_model_release(m);
}

static int parse_list(char *arg, char *items[MAX_LIST]) {
    int n = 0;
    for (char *t = strtok(arg, ","); t && n < MAX_LIST; t = strtok(NULL, ",")) items[n++] = t;
    return n;
}

static int32_t isa_of(const char *name) {
    if (!strcmp(name, "scalar")) return GI_ISA_SCALAR;
    if (!strcmp(name, "neon")) return GI_ISA_NEON;
    if (!strcmp(name, "avx2")) return GI_ISA_AVX2;
    if (!strcmp(name, "avx512")) return GI_ISA_AVX512;
    return -1;
}

int main(int argc, char **argv) {
    const char *model = NULL;
    char sizes_arg[256] = "256x256,512x512", threads_arg[64] = "1,2", isa_arg[64] = "";
    int repeat = 3, layers = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--layers")) layers = 1;
        else if (v && !strcmp(a, "--model")) model = v, i++;
        else if (v && !strcmp(a, "--sizes")) snprintf(sizes_arg, sizeof sizes_arg, "%s", v), i++;
        else if (v && !strcmp(a, "--threads")) snprintf(threads_arg, sizeof threads_arg, "%s", v), i++;
        else if (v && !strcmp(a, "--isa")) snprintf(isa_arg, sizeof isa_arg, "%s", v), i++;
        else if (v && !strcmp(a, "--repeat")) repeat = atoi(v), i++;
        else {
            fprintf(stderr, "usage: gi_bench --model M.gguf [--sizes WxH,...] [--threads N,...] "
                            "[--isa scalar,avx2,avx512] [--repeat N] [--layers]\n");
            return 2;
        }
    }
    if (!model || repeat < 1) {
        fprintf(stderr, "gi_bench: --model is required\n");
        return 2;
    }
    if (!*isa_arg) /* default: the best tier of this machine */
        snprintf(isa_arg, sizeof isa_arg, "%s", gi_kernels_select(GI_ISA_BEST)->name);
    char *sizes[MAX_LIST], *threads[MAX_LIST], *isas[MAX_LIST];
    int ns = parse_list(sizes_arg, sizes), nt = parse_list(threads_arg, threads);
    int ni = parse_list(isa_arg, isas);

    config *done_c = calloc((size_t)ns * ni * nt, sizeof *done_c);
    result *done_r = calloc((size_t)ns * ni * nt, sizeof *done_r);
    int ndone = 0;
    printf("| size (WxH) | ISA | threads | seconds | GMAC | GMAC/s | %% of FMA peak | peak RSS MB | hole |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);
    for (int a = 0; a < ns; a++)
        for (int b = 0; b < ni; b++)
            for (int t = 0; t < nt; t++) {
                config c = {0, 0, atoi(threads[t]), isa_of(isas[b]), isas[b]};
                if (sscanf(sizes[a], "%dx%d", &c.w, &c.h) != 2 || c.isa < 0 || c.threads < 1) {
                    fprintf(stderr, "gi_bench: bad size, ISA or thread count\n");
                    return 2;
                }
                int fd[2];
                if (pipe(fd)) return 1;
                pid_t pid = fork();
                if (pid == 0) { /* child: one configuration, result through the pipe */
                    close(fd[0]);
                    result r;
                    memset(&r, 0, sizeof r);
                    int rc = run_config(model, &c, repeat, &r);
                    if (!rc && write(fd[1], &r, sizeof r) != (ssize_t)sizeof r) rc = 1;
                    _exit(rc);
                }
                close(fd[1]);
                result r;
                ssize_t got = read(fd[0], &r, sizeof r);
                close(fd[0]);
                int status = 0;
                struct rusage ru;
                wait4(pid, &status, 0, &ru);
                if (got != (ssize_t)sizeof r || !WIFEXITED(status) || WEXITSTATUS(status)) {
                    printf("| %dx%d | %s | %d | failed | | | | | |\n", c.w, c.h, c.isa_name, c.threads);
                    continue;
                }
                double gmacs_s = r.gmacs / r.seconds;
                printf("| %dx%d | %s | %d | %.3f | %.1f | %.1f | %.0f%% | %.0f | %.0f%% |\n", c.w, c.h,
                       c.isa_name, c.threads, r.seconds, r.gmacs, gmacs_s,
                       200 * gmacs_s / r.peak_gflops, ru.ru_maxrss / 1024.0, 100 * r.hole_share);
                fflush(stdout);
                done_c[ndone] = c;
                done_r[ndone++] = r;
            }
    for (int i = 0; layers && i < ndone; i++) print_steps(model, &done_c[i], &done_r[i]);
    free(done_c);
    free(done_r);
    return 0;
}
