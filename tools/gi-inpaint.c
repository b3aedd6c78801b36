/* gi-inpaint: fill the holes of an image from the command line. */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gatedinpaint.h"

/* Exit codes by class of failure, so scripts can tell them apart. */
enum { EXIT_USAGE = 2, EXIT_IO = 3, EXIT_MODEL = 4, EXIT_INPAINT = 5 };

static const char usage_text[] =
    "Usage: gi-inpaint --image IN --mask MASK --output OUT [options]\n"
    "Fill the masked parts of an image (DeepFill v2, gated convolutions).\n"
    "\n"
    "  -i, --image FILE    image to fill, PNG or JPEG (an alpha channel is kept)\n"
    "  -m, --mask FILE     mask of the same size: white (> 127) or, if the mask\n"
    "                      has a varying alpha channel, opaque = hole\n"
    "  -o, --output FILE   result; PNG or JPEG by extension (.png, .jpg, .jpeg)\n"
    "      --model FILE    model file (.gguf); default: the model built into the\n"
    "                      library, if it has one\n"
    "  -g, --guide FILE    sketch of the edges wanted in the hole (white or opaque\n"
    "                      strokes), for models trained with a guide\n"
    "  -s, --strategy NAME regions (default): each hole region in a context\n"
    "                      window at the model's working scale, pasted back;\n"
    "                      exact: the whole image at full resolution (the\n"
    "                      official graph, slow and memory-hungry on photos)\n"
    "  -t, --threads N     number of threads (default 0: all cores)\n"
    "  -q, --quiet         no progress line, no timing\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the library version and exit\n"
    "\n"
    "Exit status: 0 done, 2 usage error, 3 file error, 4 model error,\n"
    "5 inpainting error (including inputs of different sizes).\n";

typedef struct {
    const char *image, *mask, *output, *model, *guide;
    long threads;     /* -1: library default */
    long strategy;    /* GI_STRATEGY_* */
    bool quiet, version;
} options;

/* Everything that must be freed, in one place, so every path cleans up. */
typedef struct {
    gi_tensor *image, *mask, *guide;
    gi_model *model;
    gi_session *session;
} resources;

static void release(resources *r) {
    gi_tensor_destroy(r->image);
    gi_tensor_destroy(r->mask);
    gi_tensor_destroy(r->guide);
    gi_session_destroy(r->session);
    gi_model_release(r->model);
}

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

static int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int lib_error(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gi-inpaint: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see gi-inpaint --help)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* "gi-inpaint: <what failed>: <library message>" */
static int lib_error(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gi-inpaint: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, ": %s\n", gi_last_error());
    va_end(ap);
    return code;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool has_image_extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0);
}

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, options *o) {
    enum { OPT_MODEL = 256 };
    static const struct option longopts[] = {
        {"image", required_argument, NULL, 'i'}, {"mask", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'}, {"model", required_argument, NULL, OPT_MODEL},
        {"guide", required_argument, NULL, 'g'}, {"threads", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"strategy", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0}};
    opterr = 0; /* our own one-line messages instead of getopt's */
    int ch;
    while ((ch = getopt_long(argc, argv, ":i:m:o:g:t:s:qhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'i': o->image = optarg; break;
        case 'm': o->mask = optarg; break;
        case 'o': o->output = optarg; break;
        case 'g': o->guide = optarg; break;
        case OPT_MODEL: o->model = optarg; break;
        case 'q': o->quiet = true; break;
        case 's':
            if (strcmp(optarg, "regions") == 0)
                o->strategy = GI_STRATEGY_REGIONS;
            else if (strcmp(optarg, "exact") == 0)
                o->strategy = GI_STRATEGY_EXACT;
            else
                return usage_error("--strategy wants 'regions' or 'exact', not '%s'", optarg);
            break;
        case 'V': o->version = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 't': {
            char *end;
            o->threads = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o->threads < 0 || o->threads > INT_MAX)
                return usage_error("--threads wants a number >= 0, not '%s'", optarg);
            break;
        }
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: {
            /* Unknown short options are in optopt; long ones only in argv. */
            char shortopt[3] = {'-', (char)optopt, '\0'};
            return usage_error("unknown option '%s'", optopt ? shortopt : argv[optind - 1]);
        }
        }
    }
    if (o->version) return -1;
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->image) return usage_error("missing --image");
    if (!o->mask) return usage_error("missing --mask");
    if (!o->output) return usage_error("missing --output");
    /* Found out now rather than after the expensive part. */
    if (!has_image_extension(o->output))
        return usage_error("cannot tell the output format of '%s'; use .png, .jpg or .jpeg",
                           o->output);
    return -1;
}

static const char *isa_name(int64_t isa) {
    switch (isa) {
    case GI_ISA_SCALAR: return "scalar";
    case GI_ISA_NEON: return "neon";
    case GI_ISA_AVX2: return "avx2";
    case GI_ISA_AVX512: return "avx512";
    default: return "unknown";
    }
}

/* The instruction set is a session property, so it needs a model: the one
 * named or the built-in one. Without either the line is left out. */
static int print_version(const options *o, resources *r) {
    printf("gi-inpaint (libgatedinpaint) %s\n", gi_version_string());
    gi_status st = o->model ? gi_model_load_file(o->model, &r->model)
                            : gi_model_load_default(&r->model);
    int64_t isa;
    if (!st && !gi_session_create(r->model, &r->session) &&
        !gi_session_get_int(r->session, GI_OPT_ISA, &isa))
        printf("instruction set: %s\n", isa_name(isa));
    return 0;
}

/* Image as RGB, or RGBA when the file has alpha: gray is widened so the
 * network always sees three colour channels. */
static gi_status load_image(const char *path, gi_tensor **out) {
    gi_tensor *src;
    gi_status st = gi_image_load(path, 0, &src);
    if (st) return st;
    int32_t h, w, c;
    gi_tensor_shape(src, &h, &w, &c);
    if (c >= 3) {
        *out = src;
        return GI_OK;
    }
    gi_tensor *dst;
    st = gi_tensor_create(GI_DTYPE_U8, h, w, c + 2, &dst);
    if (st) {
        gi_tensor_destroy(src);
        return st;
    }
    const uint8_t *s = gi_tensor_data(src);
    uint8_t *d = gi_tensor_data(dst);
    size_t ss = gi_tensor_row_stride(src), ds = gi_tensor_row_stride(dst);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            const uint8_t *p = s + (size_t)y * ss + (size_t)x * (size_t)c;
            uint8_t *q = d + (size_t)y * ds + (size_t)x * (size_t)(c + 2);
            q[0] = q[1] = q[2] = p[0];
            if (c == 2) q[3] = p[1];
        }
    gi_tensor_destroy(src);
    *out = dst;
    return GI_OK;
}

/* A mask-like input (mask or guide) reduced to one channel. */
static gi_status load_mask(const char *path, gi_tensor **out) {
    gi_tensor *src;
    gi_status st = gi_image_load(path, 0, &src);
    if (st) return st;
    st = gi_image_to_mask(src, out);
    gi_tensor_destroy(src);
    return st;
}

static int same_size(const gi_tensor *a, const char *a_path, const gi_tensor *b,
                     const char *b_path, const char *what) {
    int32_t ah, aw, bh, bw;
    gi_tensor_shape(a, &ah, &aw, NULL);
    gi_tensor_shape(b, &bh, &bw, NULL);
    if (ah == bh && aw == bw) return 1;
    fprintf(stderr,
            "gi-inpaint: %s and image differ in size: '%s' is %dx%d, '%s' is %dx%d "
            "(width x height)\n",
            what, b_path, (int)bw, (int)bh, a_path, (int)aw, (int)ah);
    return 0;
}

typedef struct {
    int pct;
    const char *stage;
} progress;

/* "\r[ 42%] refine", rewritten in place; ESC[K clears what a longer stage
 * name left behind. Only called when stderr is a terminal. */
static int32_t on_progress(void *user, float done, const char *stage) {
    progress *p = user;
    int pct = done <= 0 ? 0 : done >= 1 ? 100 : (int)(done * 100.0f);
    if (pct != p->pct || !p->stage || strcmp(stage, p->stage) != 0) {
        fprintf(stderr, "\r[%3d%%] %s\x1b[K", pct, stage);
        fflush(stderr);
        p->pct = pct;
        p->stage = stage;
    }
    return 0;
}

static int run(const options *o, resources *r) {
    const double t0 = now();
    if (load_image(o->image, &r->image))
        return lib_error(EXIT_IO, "cannot read the image '%s'", o->image);
    if (load_mask(o->mask, &r->mask))
        return lib_error(EXIT_IO, "cannot read the mask '%s'", o->mask);
    if (o->guide && load_mask(o->guide, &r->guide))
        return lib_error(EXIT_IO, "cannot read the guide '%s'", o->guide);
    if (!same_size(r->image, o->image, r->mask, o->mask, "mask") ||
        (r->guide && !same_size(r->image, o->image, r->guide, o->guide, "guide")))
        return EXIT_INPAINT;

    if (o->model) {
        if (gi_model_load_file(o->model, &r->model))
            return lib_error(EXIT_MODEL, "cannot load the model '%s'", o->model);
    } else {
        gi_status st = gi_model_load_default(&r->model);
        if (st == GI_E_UNSUPPORTED)
            return usage_error("--model is required: this build has no default model");
        if (st) return lib_error(EXIT_MODEL, "cannot load the default model");
    }
    if (gi_session_create(r->model, &r->session))
        return lib_error(EXIT_MODEL, "cannot start a session");
    if (o->threads >= 0 && gi_session_set_int(r->session, GI_OPT_NUM_THREADS, o->threads))
        return lib_error(EXIT_USAGE, "cannot use --threads %ld", o->threads);
    if (gi_session_set_int(r->session, GI_OPT_STRATEGY, o->strategy))
        return lib_error(EXIT_USAGE, "cannot use --strategy");
    progress prog = {-1, NULL};
    const bool show = !o->quiet && isatty(STDERR_FILENO);
    if (show) gi_session_set_progress(r->session, on_progress, &prog);

    const double t1 = now();
    /* In place: outside the hole the output equals the input anyway. */
    gi_status st = gi_inpaint(r->session, r->image, r->mask, r->guide, r->image);
    const double t2 = now();
    if (show && prog.stage) fputs("\r\x1b[K", stderr);
    if (st) return lib_error(EXIT_INPAINT, "inpainting failed");

    if (gi_image_save(o->output, r->image, 0))
        return lib_error(EXIT_IO, "cannot write '%s'", o->output);
    if (!o->quiet) {
        int32_t h, w;
        gi_tensor_shape(r->image, &h, &w, NULL);
        int64_t regions = 0, scale = 1;
        gi_session_get_int(r->session, GI_OPT_LAST_REGIONS, &regions);
        gi_session_get_int(r->session, GI_OPT_LAST_SCALE, &scale);
        char how[80] = "";
        if (o->strategy == GI_STRATEGY_REGIONS && regions > 0 && scale > 1)
            snprintf(how, sizeof how, "; %lld region%s, filled at down to 1/%lld scale",
                     (long long)regions, regions == 1 ? "" : "s", (long long)scale);
        else if (o->strategy == GI_STRATEGY_REGIONS && regions > 0)
            snprintf(how, sizeof how, "; %lld region%s at full resolution", (long long)regions,
                     regions == 1 ? "" : "s");
        fprintf(stderr, "gi-inpaint: wrote %s (%dx%d) in %.2f s (inpainting %.2f s%s)\n",
                o->output, (int)w, (int)h, now() - t0, t2 - t1, how);
    }
    return 0;
}

int main(int argc, char **argv) {
    options o = {.threads = -1};
    int code = parse(argc, argv, &o);
    if (code >= 0) return code;
    resources r = {0};
    code = o.version ? print_version(&o, &r) : run(&o, &r);
    release(&r);
    return code;
}
