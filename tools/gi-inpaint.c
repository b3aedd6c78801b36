/* gi-inpaint: fill the holes of an image, or of every image in a folder,
 * from the command line. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dump_maps.h"
#include "gatedinpaint.h"

/* Exit codes by class of failure, so scripts can tell them apart. */
enum { EXIT_USAGE = 2, EXIT_IO = 3, EXIT_MODEL = 4, EXIT_INPAINT = 5, EXIT_SOME_FAILED = 6 };

static const char usage_text[] =
    "Usage: gi-inpaint --image IN --mask MASK --output OUT [options]\n"
    "Fill the masked parts of an image (DeepFill v2, gated convolutions).\n"
    "\n"
    "  -i, --image PATH    image to fill: PNG, JPEG, and WebP and TIFF where the\n"
    "                      library has them; grey stays grey, 16-bit PNG/TIFF stay\n"
    "                      16-bit, alpha, EXIF and ICC profile are kept; or a\n"
    "                      folder: every such file in it (subfolders are not\n"
    "                      entered; other files are skipped with a note)\n"
    "  -m, --mask PATH     mask of the same size, or a folder of masks found by\n"
    "                      name: for NAME.jpg, NAME.png, NAME_mask.png or\n"
    "                      NAME.mask.png (any image extension); one file serves\n"
    "                      every image. Hole: a mask whose largest value is 1 is\n"
    "                      read as 0/1 (non-zero = hole), any other as white\n"
    "                      (> 127); a varying alpha channel is the mask (opaque)\n"
    "  -o, --output PATH   result, its format by extension (.png, .jpg, .jpeg,\n"
    "                      .webp, .tif, .tiff), or a folder (created if missing):\n"
    "                      one file per image, named and typed like it; an input\n"
    "                      file is never overwritten. 16-bit images need .png or\n"
    "                      .tif (JPEG and WebP are 8-bit: an error, not a cut)\n"
    "      --jpeg-quality N  JPEG quality 1..100 (default 95); for WebP, lossy at\n"
    "                      N (default: lossless)\n"
    "      --model FILE    model file (.gguf); default: the model built into the\n"
    "                      library, if it has one\n"
    "  -g, --guide PATH    sketch of the edges wanted in the hole (white or opaque\n"
    "                      strokes), for models trained with a guide; a folder\n"
    "                      is searched like the mask folder, and an image with\n"
    "                      no guide there fails as one with no mask does\n"
    "  -s, --strategy NAME regions (default): each hole region in a context\n"
    "                      window at the model's working scale, pasted back;\n"
    "                      exact: the whole image at full resolution (the\n"
    "                      official graph, slow and memory-hungry on photos)\n"
    "      --dilate N      grow the hole by N pixels (a square: N px in x and y)\n"
    "      --feather N     blend the fill into the image over a band of N pixels\n"
    "                      outside the hole (linear in the distance to the hole);\n"
    "                      pixels farther away are left bit-identical\n"
    "      --dump-gates DIR  write the network's gates (DeepFill v2) or updated\n"
    "                      masks (PConv U-Net) into DIR as one PNG grid per layer,\n"
    "                      with index.html and index.tsv (one image; implies\n"
    "                      --strategy exact; experimental)\n"
    "  -j, --jobs N        images filled at once in folder mode (default 1); the\n"
    "                      threads are shared out among them\n"
    "  -t, --threads N     number of threads in all (default 0: all cores)\n"
    "  -q, --quiet         no progress, no timing (warnings and errors remain)\n"
    "  -h, --help          show this help and exit\n"
    "  -V, --version       show the library version and exit\n"
    "\n"
    "An empty mask copies the image with a warning; a mask that covers the\n"
    "whole image is an error.\n"
    "Exit status: 0 done, 2 usage error, 3 file error, 4 model error,\n"
    "5 inpainting error (including inputs of different sizes and all-hole\n"
    "masks), 6 folder mode: some images failed (the others were written).\n";

typedef struct {
    const char *image, *mask, *output, *model, *guide, *dump_gates;
    long threads;     /* -1: library default */
    long strategy;    /* GI_STRATEGY_* */
    long jobs, dilate, feather, quality; /* quality 0: the library's default */
    bool quiet, version;
} options;

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

static int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gi-inpaint: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see gi-inpaint --help)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The extension of a file name (".png"), or NULL. */
static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot && dot != (slash ? slash + 1 : path) ? dot : NULL;
}

/* The extensions gi_image_save_ex knows, with their formats. */
static const struct {
    const char *ext;
    int format;
} image_exts[] = {{".png", 0},  {".jpg", 1}, {".jpeg", 1},
                  {".webp", 2}, {".tif", 3}, {".tiff", 3}};
enum { N_IMAGE_EXTS = sizeof image_exts / sizeof *image_exts };

/* The format of a file name, or -1 if it is not an image name. */
static int image_format(const char *path) {
    const char *dot = extension(path);
    for (int i = 0; dot && i < N_IMAGE_EXTS; i++)
        if (strcasecmp(dot, image_exts[i].ext) == 0) return image_exts[i].format;
    return -1;
}

static bool has_image_extension(const char *path) { return image_format(path) >= 0; }

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Both paths name one existing file (links and "a/../b" included). */
static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* A whole number in [lo, INT_MAX] for option `name`; false if not. */
static bool parse_count(const char *arg, long lo, long *value) {
    char *end;
    errno = 0;
    *value = strtol(arg, &end, 10);
    return *arg != '\0' && *end == '\0' && errno == 0 && *value >= lo && *value <= INT_MAX;
}

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, options *o) {
    enum { OPT_MODEL = 256, OPT_DILATE, OPT_FEATHER, OPT_DUMP, OPT_QUALITY };
    static const struct option longopts[] = {
        {"image", required_argument, NULL, 'i'}, {"mask", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'}, {"model", required_argument, NULL, OPT_MODEL},
        {"guide", required_argument, NULL, 'g'}, {"threads", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"strategy", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},   {"dilate", required_argument, NULL, OPT_DILATE},
        {"feather", required_argument, NULL, OPT_FEATHER},
        {"dump-gates", required_argument, NULL, OPT_DUMP},
        {"jpeg-quality", required_argument, NULL, OPT_QUALITY},
        {NULL, 0, NULL, 0}};
    opterr = 0; /* our own one-line messages instead of getopt's */
    int ch;
    while ((ch = getopt_long(argc, argv, ":i:m:o:g:t:s:j:qhV", longopts, NULL)) != -1) {
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
        case 't':
            if (!parse_count(optarg, 0, &o->threads))
                return usage_error("--threads wants a number >= 0, not '%s'", optarg);
            break;
        case 'j':
            if (!parse_count(optarg, 1, &o->jobs))
                return usage_error("--jobs wants a number >= 1, not '%s'", optarg);
            break;
        case OPT_DILATE:
            if (!parse_count(optarg, 0, &o->dilate))
                return usage_error("--dilate wants a number of pixels >= 0, not '%s'", optarg);
            break;
        case OPT_FEATHER:
            if (!parse_count(optarg, 0, &o->feather))
                return usage_error("--feather wants a number of pixels >= 0, not '%s'", optarg);
            break;
        case OPT_DUMP: o->dump_gates = optarg; break;
        case OPT_QUALITY:
            if (!parse_count(optarg, 1, &o->quality) || o->quality > 100)
                return usage_error("--jpeg-quality wants a number from 1 to 100, not '%s'",
                                   optarg);
            break;
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
    if (o->dump_gates && is_dir(o->image))
        return usage_error("--dump-gates takes one image, not the folder '%s'", o->image);
    if (o->dump_gates) o->strategy = GI_STRATEGY_EXACT; /* one pass over the image */
    /* Found out now rather than after the expensive part. */
    if (!is_dir(o->image) && !is_dir(o->output) && !has_image_extension(o->output))
        return usage_error("cannot tell the output format of '%s'; use .png, .jpg, .jpeg, "
                           ".webp, .tif or .tiff",
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
static int print_version(const options *o) {
    printf("gi-inpaint (libgatedinpaint) %s\n", gi_version_string());
    gi_model *model = NULL;
    gi_session *session = NULL;
    gi_status st = o->model ? gi_model_load_file(o->model, &model) : gi_model_load_default(&model);
    int64_t isa;
    if (!st && !gi_session_create(model, &session) &&
        !gi_session_get_int(session, GI_OPT_ISA, &isa))
        printf("instruction set: %s\n", isa_name(isa));
    gi_session_destroy(session);
    gi_model_release(model);
    return 0;
}

/* A mask-like input (mask or guide) reduced to one channel; masks then
 * follow the 0/1 rule (gi_mask_normalize), guides keep their values. */
static gi_status load_mask(const char *path, bool normalize, gi_tensor **out) {
    gi_tensor *src, *m;
    gi_status st = gi_image_load(path, 0, &src);
    if (st) return st;
    st = gi_image_to_mask(src, &m);
    gi_tensor_destroy(src);
    if (st || !normalize) {
        *out = st ? NULL : m;
        return st;
    }
    st = gi_mask_normalize(m, out);
    gi_tensor_destroy(m);
    return st;
}

/* ------------------------------------------------------------------------ */
/* One run: the images to fill and what they need                           */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *image, *mask, *guide, *output; /* mask/guide: NULL when none */
    char *problem; /* set when the job cannot run (no mask found...) */
} job;

typedef struct {
    const options *o;
    gi_model *model;
    job *jobs;
    size_t n, cap;
    bool batch;       /* folder mode: one line per file, a summary, exit 6 */
    bool tty;         /* stderr is a terminal: a live progress line */
    pthread_mutex_t lock; /* guards everything below and stderr */
    size_t next, finished, written, failed, empty, skipped;
    size_t unlisted; /* images that could not even be looked at */
    int first_code;   /* single-file mode: the exit code */
    double t0;
    bool progress_shown;
} run_state;

static char *dup_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *dup_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!p) {
        fputs("gi-inpaint: out of memory\n", stderr);
        exit(EXIT_IO);
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* "\r[ 3/10] 2.5 images/s, ETA 0:03" on a terminal; called with the lock. */
static void draw_progress(run_state *r) {
    if (!r->batch || !r->tty || r->o->quiet) return;
    const double t = now() - r->t0, rate = t > 0 ? (double)r->finished / t : 0;
    char eta[32] = "?";
    if (rate > 0) {
        long left = (long)((double)(r->n - r->finished) / rate + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
    }
    fprintf(stderr, "\r[%zu/%zu] %.2f images/s, ETA %s\x1b[K", r->finished, r->n, rate, eta);
    fflush(stderr);
    r->progress_shown = true;
}

/* One line on stderr, "gi-inpaint: " first, the progress line kept below. */
static void say(run_state *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(run_state *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->lock);
    if (r->progress_shown) fputs("\r\x1b[K", stderr);
    fputs("gi-inpaint: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    draw_progress(r);
    pthread_mutex_unlock(&r->lock);
    va_end(ap);
}

/* "gi-inpaint: <what failed>: <library message>"; returns code. */
#define LIB_FAIL(r, code, fmt, ...) \
    (say((r), fmt ": %s", __VA_ARGS__, gi_last_error()), (code))

static void add_job(run_state *r, job j) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        job *p = realloc(r->jobs, r->cap * sizeof *p);
        if (!p) {
            fputs("gi-inpaint: out of memory\n", stderr);
            exit(EXIT_IO);
        }
        r->jobs = p;
    }
    r->jobs[r->n++] = j;
}

static void free_jobs(run_state *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->jobs[i].image);
        free(r->jobs[i].mask);
        free(r->jobs[i].guide);
        free(r->jobs[i].output);
        free(r->jobs[i].problem);
    }
    free(r->jobs);
}

/* The output name for an input: its basename, with its extension when that
 * is an image extension, else .png. NULL if the name could leave the folder
 * or is no name: empty, ".", "..", a backslash (a separator elsewhere). */
static char *output_path(const char *dir, const char *image) {
    const char *slash = strrchr(image, '/');
    const char *name = slash ? slash + 1 : image;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '\\'))
        return NULL;
    const char *dot = extension(name);
    const int stem = (int)(dot ? (size_t)(dot - name) : strlen(name));
    return dup_printf("%s/%.*s%s", dir, stem, name, has_image_extension(name) ? dot : ".png");
}

/* The mask (or guide) for `image` in folder `dir`: STEM, STEM_mask or
 * STEM.mask with an image extension in lower or upper case; never the
 * image. */
static char *find_companion(const char *dir, const char *image) {
    static const char *const suffixes[] = {"", "_mask", ".mask"};
    const char *slash = strrchr(image, '/');
    const char *name = slash ? slash + 1 : image;
    const char *dot = extension(name);
    const int stem = (int)(dot ? (size_t)(dot - name) : strlen(name));
    for (size_t s = 0; s < sizeof suffixes / sizeof *suffixes; s++)
        for (int e = 0; e < 2 * N_IMAGE_EXTS; e++) {
            char ext[8];
            snprintf(ext, sizeof ext, "%s", image_exts[e / 2].ext);
            for (char *c = ext; e % 2 && *c; c++) *c = (char)toupper((unsigned char)*c);
            char *p = dup_printf("%s/%.*s%s%s", dir, stem, name, suffixes[s], ext);
            struct stat st;
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && !same_file(p, image)) return p;
            free(p);
        }
    return NULL;
}

/* The mask or guide for one image: the file given, or one found in the folder. */
static char *companion(const char *arg, const char *image, const char *what, char **problem) {
    if (!arg) return NULL;
    if (!is_dir(arg)) return dup_printf("%s", arg);
    char *p = find_companion(arg, image);
    if (!p && !*problem) {
        const char *slash = strrchr(image, '/');
        const char *name = slash ? slash + 1 : image;
        const char *dot = extension(name);
        const int stem = (int)(dot ? (size_t)(dot - name) : strlen(name));
        *problem = dup_printf("no %s for '%s' in '%s' (looked for %.*s, %.*s_mask and "
                              "%.*s.mask with an image extension)",
                              what, image, arg, stem, name, stem, name, stem, name);
    }
    return p;
}

static void add_image(run_state *r, const char *image, const char *out_dir) {
    const options *o = r->o;
    job j = {0};
    j.image = dup_printf("%s", image);
    j.mask = companion(o->mask, image, "mask", &j.problem);
    j.guide = companion(o->guide, image, "guide", &j.problem);
    j.output = out_dir ? output_path(out_dir, image) : dup_printf("%s", o->output);
    if (!j.output && !j.problem)
        j.problem = dup_printf("'%s' gives no safe output name in '%s'", image, out_dir);
    add_job(r, j);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A name that is a mask or guide kept in the image folder (NAME_mask.png,
 * NAME.mask.png) rather than an image. */
static bool looks_like_mask(const char *name) {
    const char *dot = extension(name);
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    return (stem > 5 && (strncmp(name + stem - 5, "_mask", 5) == 0 ||
                         strncmp(name + stem - 5, ".mask", 5) == 0));
}

/* Every image of the folder, sorted by name, without entering subfolders
 * (so links to folders, loops included, are never followed). */
static int list_folder(run_state *r) {
    const options *o = r->o;
    DIR *d = opendir(o->image);
    if (!d) {
        say(r, "cannot read the folder '%s': %s", o->image, strerror(errno));
        return EXIT_IO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files */
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                fputs("gi-inpaint: out of memory\n", stderr);
                exit(EXIT_IO);
            }
            names = p;
        }
        names[n++] = dup_printf("%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    const bool masks_here = is_dir(o->mask) && same_file(o->mask, o->image);
    const bool guides_here = o->guide && is_dir(o->guide) && same_file(o->guide, o->image);
    for (size_t i = 0; i < n; i++) {
        char *path = dup_printf("%s/%s", o->image, names[i]);
        struct stat st;
        const bool image_name = has_image_extension(names[i]);
        if (stat(path, &st) != 0) {
            if (image_name) {
                say(r, "cannot read the image '%s': %s", path, strerror(errno));
                r->failed++;
                r->unlisted++;
            } else {
                r->skipped++;
            }
        } else if (S_ISDIR(st.st_mode)) {
            if (!o->quiet) say(r, "skipping the subfolder '%s' (folders are not entered)", path);
            r->skipped++;
        } else if (!S_ISREG(st.st_mode) || !image_name) {
            if (!o->quiet) say(r, "skipping '%s': not an image file name (.png, .jpg, .jpeg, "
                               ".webp, .tif, .tiff)", path);
            r->skipped++;
        } else if ((masks_here || guides_here) && looks_like_mask(names[i])) {
            r->skipped++; /* a mask or guide that sits with the images */
        } else {
            add_image(r, path, o->output);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Filling one image                                                         */
/* ------------------------------------------------------------------------ */

static gi_status copy_tensor(const gi_tensor *src, gi_tensor **out) {
    int32_t h, w, c;
    gi_tensor_shape(src, &h, &w, &c);
    gi_status st = gi_tensor_create(gi_tensor_dtype(src), h, w, c, out);
    if (st) return st;
    const uint8_t *s = gi_tensor_data((gi_tensor *)src);
    uint8_t *d = gi_tensor_data(*out);
    const size_t row = gi_tensor_row_stride(*out); /* a new tensor's rows are packed */
    for (int32_t y = 0; y < h; y++)
        memcpy(d + (size_t)y * row, s + (size_t)y * gi_tensor_row_stride(src), row);
    return GI_OK;
}

/* Hole pixels of a 0/255 mask. */
static int64_t count_holes(gi_tensor *mask) {
    int32_t h, w;
    gi_tensor_shape(mask, &h, &w, NULL);
    const uint8_t *p = gi_tensor_data(mask);
    int64_t n = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) n += p[(size_t)y * gi_tensor_row_stride(mask) + x] != 0;
    return n;
}

static bool same_format(const char *a, const char *b) {
    return has_image_extension(a) && image_format(a) == image_format(b);
}

/* The input file byte for byte (an empty mask: nothing to change). */
static bool copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    bool ok = in && out;
    char buf[65536];
    size_t k;
    while (ok && (k = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, k, out) == k;
    if (in && ferror(in)) ok = false;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = false;
    return ok;
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

typedef struct {
    gi_tensor *image, *mask, *guide, *grown, *filled;
    gi_metadata *meta; /* the image's EXIF and ICC profile, for the output */
    char done[PATH_MAX + 160]; /* the closing line of a success, if any */
} tensors;

static void free_tensors(tensors *t) {
    gi_tensor_destroy(t->image);
    gi_tensor_destroy(t->mask);
    gi_tensor_destroy(t->guide);
    gi_tensor_destroy(t->grown);
    gi_tensor_destroy(t->filled);
    gi_metadata_destroy(t->meta);
}

static int check_size(run_state *r, const gi_tensor *image, const char *image_path,
                      const gi_tensor *b, const char *b_path, const char *what) {
    int32_t ah, aw, bh, bw;
    gi_tensor_shape(image, &ah, &aw, NULL);
    gi_tensor_shape(b, &bh, &bw, NULL);
    if (ah == bh && aw == bw) return 0;
    say(r, "%s and image differ in size: '%s' is %dx%d, '%s' is %dx%d (width x height)", what,
        b_path, (int)bw, (int)bh, image_path, (int)aw, (int)ah);
    return EXIT_INPAINT;
}

/* Fill one image; returns 0 or the exit code of its failure (reported). */
static int fill_one(run_state *r, gi_session *s, const job *j, tensors *t) {
    const options *o = r->o;
    const double t0 = now();
    if (j->problem) {
        say(r, "%s", j->problem);
        return EXIT_IO;
    }
    const char *inputs[3] = {j->image, j->mask, j->guide};
    for (int i = 0; i < 3; i++)
        if (same_file(j->output, inputs[i])) {
            say(r, "refusing to overwrite the input '%s' with the output '%s'", inputs[i],
                j->output);
            return EXIT_IO;
        }
    /* As stored: grey stays grey and 16 bits stay 16 (gi_inpaint takes both). */
    if (gi_image_load_ex(j->image, 0, GI_LOAD_16BIT, &t->image, &t->meta))
        return LIB_FAIL(r, EXIT_IO, "cannot read the image '%s'", j->image);
    if (load_mask(j->mask, true, &t->mask))
        return LIB_FAIL(r, EXIT_IO, "cannot read the mask '%s'", j->mask);
    if (j->guide && load_mask(j->guide, false, &t->guide))
        return LIB_FAIL(r, EXIT_IO, "cannot read the guide '%s'", j->guide);
    int code = check_size(r, t->image, j->image, t->mask, j->mask, "mask");
    if (!code && t->guide) code = check_size(r, t->image, j->image, t->guide, j->guide, "guide");
    if (code) return code;

    if (o->dilate > 0 && gi_mask_dilate(t->mask, (int32_t)o->dilate))
        return LIB_FAIL(r, EXIT_INPAINT, "cannot grow the mask '%s'", j->mask);
    int32_t h, w;
    gi_tensor_shape(t->image, &h, &w, NULL);
    const int64_t holes = count_holes(t->mask);
    if (holes == 0) {
        say(r, "warning: the mask '%s' has no hole; '%s' is written unchanged", j->mask,
            j->output);
        if (!same_format(j->image, j->output)) {
            if (gi_image_save_ex(j->output, t->image, (int32_t)o->quality, t->meta))
                return LIB_FAIL(r, EXIT_IO, "cannot write '%s'", j->output);
        } else if (!copy_file(j->image, j->output)) {
            say(r, "cannot write '%s'", j->output);
            return EXIT_IO;
        }
        pthread_mutex_lock(&r->lock);
        r->empty++;
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    if (holes == (int64_t)h * w) {
        say(r, "the mask '%s' covers the whole image '%s'%s: nothing is left to fill from",
            j->mask, j->image, o->dilate > 0 ? " (after --dilate)" : "");
        return EXIT_INPAINT;
    }
    /* Feathering: the network fills hole + band, the band is then blended. */
    const gi_tensor *hole = t->mask;
    if (o->feather > 0) {
        if (copy_tensor(t->mask, &t->grown) || gi_mask_dilate(t->grown, (int32_t)o->feather) ||
            copy_tensor(t->image, &t->filled))
            return LIB_FAIL(r, EXIT_INPAINT, "cannot prepare --feather for '%s'", j->image);
        if (count_holes(t->grown) == (int64_t)h * w) {
            say(r, "the mask '%s' grown by --feather %ld covers the whole image '%s'", j->mask,
                o->feather, j->image);
            return EXIT_INPAINT;
        }
        hole = t->grown;
    }
    progress prog = {-1, NULL};
    const bool show = !r->batch && !o->quiet && r->tty;
    if (show) gi_session_set_progress(s, on_progress, &prog);
    const double t1 = now();
    /* In place without feathering: outside the hole output = input anyway. */
    gi_tensor *dst = t->filled ? t->filled : t->image;
    gi_dump *dump = o->dump_gates ? dump_open(o->dump_gates, h, w) : NULL;
    if (o->dump_gates && !dump) return EXIT_IO;
    if (dump) gi_session_set_map_observer(s, dump_observer, dump);
    gi_status st = gi_inpaint(s, t->image, hole, t->guide, dst);
    const double t2 = now();
    if (dump) {
        gi_session_set_map_observer(s, NULL, NULL);
        if (dump_close(dump)) {
            say(r, "cannot write the maps into '%s'", o->dump_gates);
            return EXIT_IO;
        }
    }
    if (show && prog.stage) fputs("\r\x1b[K", stderr);
    if (st) return LIB_FAIL(r, EXIT_INPAINT, "inpainting '%s' failed", j->image);
    if (t->filled && gi_blend_feather(t->image, t->mask, t->filled, (int32_t)o->feather, t->image))
        return LIB_FAIL(r, EXIT_INPAINT, "cannot blend '%s'", j->image);
    if (gi_image_save_ex(j->output, t->image, (int32_t)o->quality, t->meta))
        return LIB_FAIL(r, EXIT_IO, "cannot write '%s'", j->output);
    if (!o->quiet && !(r->batch && r->tty)) { /* printed by work() */
        int64_t regions = 0, scale = 1;
        gi_session_get_int(s, GI_OPT_LAST_REGIONS, &regions);
        gi_session_get_int(s, GI_OPT_LAST_SCALE, &scale);
        char how[80] = "";
        if (o->strategy == GI_STRATEGY_REGIONS && regions > 0 && scale > 1)
            snprintf(how, sizeof how, "; %lld region%s, filled at down to 1/%lld scale",
                     (long long)regions, regions == 1 ? "" : "s", (long long)scale);
        else if (o->strategy == GI_STRATEGY_REGIONS && regions > 0)
            snprintf(how, sizeof how, "; %lld region%s at full resolution", (long long)regions,
                     regions == 1 ? "" : "s");
        snprintf(t->done, sizeof t->done, "wrote %s (%dx%d) in %.2f s (inpainting %.2f s%s)",
                 j->output, (int)w, (int)h, now() - t0, t2 - t1, how);
    }
    return 0;
}

typedef struct {
    run_state *r;
    gi_session *session;
} worker;

/* Takes the next job until none is left; one session per worker. */
static void *work(void *arg) {
    worker *wk = arg;
    run_state *r = wk->r;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        const size_t i = r->next++;
        pthread_mutex_unlock(&r->lock);
        if (i >= r->n) return NULL;
        tensors t = {0};
        const int code = fill_one(r, wk->session, &r->jobs[i], &t);
        free_tensors(&t);
        pthread_mutex_lock(&r->lock);
        r->finished++;
        if (t.done[0] && !r->batch) fprintf(stderr, "gi-inpaint: %s\n", t.done);
        if (t.done[0] && r->batch) /* not on a terminal: the progress line is off */
            fprintf(stderr, "gi-inpaint: [%zu/%zu] %s\n", r->finished, r->n, t.done);
        if (code) {
            r->failed++;
            if (!r->first_code) r->first_code = code;
        } else {
            r->written++;
        }
        draw_progress(r);
        pthread_mutex_unlock(&r->lock);
    }
}

/* Threads per session: the total (--threads, 0 or unset: all cores) shared
 * out among the jobs; -1 leaves the library default (one job, no --threads). */
static long threads_per_session(const options *o, long jobs) {
    if (jobs == 1) return o->threads;
    long total = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (total < 1) total = 1;
    return total / jobs > 0 ? total / jobs : 1;
}

static int load_model(const options *o, gi_model **model) {
    if (o->model) {
        if (gi_model_load_file(o->model, model)) {
            fprintf(stderr, "gi-inpaint: cannot load the model '%s': %s\n", o->model,
                    gi_last_error());
            return EXIT_MODEL;
        }
        return 0;
    }
    gi_status st = gi_model_load_default(model);
    if (st == GI_E_UNSUPPORTED)
        return usage_error("--model is required: this build has no default model");
    if (st) {
        fprintf(stderr, "gi-inpaint: cannot load the default model: %s\n", gi_last_error());
        return EXIT_MODEL;
    }
    return 0;
}

static int run_jobs(run_state *r) {
    const options *o = r->o;
    long jobs = o->jobs < 1 ? 1 : o->jobs;
    if ((size_t)jobs > r->n) jobs = r->n ? (long)r->n : 1;
    const long per = threads_per_session(o, jobs);
    worker *workers = calloc((size_t)jobs, sizeof *workers);
    pthread_t *ids = calloc((size_t)jobs, sizeof *ids);
    int code = 0;
    if (!workers || !ids) {
        fputs("gi-inpaint: out of memory\n", stderr);
        code = EXIT_IO;
    }
    for (long k = 0; !code && k < jobs; k++) {
        workers[k].r = r;
        if (gi_session_create(r->model, &workers[k].session)) {
            fprintf(stderr, "gi-inpaint: cannot start a session: %s\n", gi_last_error());
            code = EXIT_MODEL;
        } else if (per >= 0 && gi_session_set_int(workers[k].session, GI_OPT_NUM_THREADS, per)) {
            fprintf(stderr, "gi-inpaint: cannot use --threads %ld: %s (see gi-inpaint --help)\n",
                    o->threads, gi_last_error());
            code = EXIT_USAGE;
        } else if (gi_session_set_int(workers[k].session, GI_OPT_STRATEGY, o->strategy)) {
            fprintf(stderr, "gi-inpaint: cannot use --strategy: %s\n", gi_last_error());
            code = EXIT_USAGE;
        }
    }
    long started = 0;
    if (!code) {
        r->t0 = now();
        pthread_mutex_lock(&r->lock);
        draw_progress(r);
        pthread_mutex_unlock(&r->lock);
        for (started = 1; started < jobs; started++)
            if (pthread_create(&ids[started], NULL, work, &workers[started]) != 0) break;
        work(&workers[0]); /* this thread is worker 0 */
        for (long k = 1; k < started; k++) pthread_join(ids[k], NULL);
    }
    for (long k = 0; workers && k < jobs; k++) gi_session_destroy(workers[k].session);
    free(workers);
    free(ids);
    return code;
}

static int run(const options *o) {
    run_state r = {.o = o, .batch = is_dir(o->image), .tty = isatty(STDERR_FILENO) != 0};
    pthread_mutex_init(&r.lock, NULL);
    int code = 0;
    const double t0 = now();
    if (r.batch) {
        if (!is_dir(o->output) && mkdir(o->output, 0777) != 0)
            code = (say(&r, "cannot create the output folder '%s': %s", o->output,
                        strerror(errno)), EXIT_IO);
        if (!code && same_file(o->output, o->image))
            code = usage_error("the output folder '%s' is the image folder '%s': the results "
                               "would overwrite the images", o->output, o->image);
        if (!code) code = list_folder(&r);
    } else {
        add_image(&r, o->image, is_dir(o->output) ? o->output : NULL);
    }
    if (!code && r.n > 0) code = load_model(o, &r.model);
    if (!code && r.n > 0) code = run_jobs(&r);
    if (!code && r.batch) {
        if (r.progress_shown) fputs("\r\x1b[K", stderr);
        if (!o->quiet || r.failed)
            fprintf(stderr,
                    "gi-inpaint: %zu of %zu image%s written (%zu copied: empty mask), "
                    "%zu failed, %zu file%s skipped, in %.2f s\n",
                    r.written, r.n + r.unlisted, r.n + r.unlisted == 1 ? "" : "s", r.empty,
                    r.failed, r.skipped, r.skipped == 1 ? "" : "s", now() - t0);
        code = r.failed ? EXIT_SOME_FAILED : 0;
    } else if (!code) {
        code = r.first_code;
    }
    gi_model_release(r.model);
    free_jobs(&r);
    pthread_mutex_destroy(&r.lock);
    return code;
}

int main(int argc, char **argv) {
    options o = {.threads = -1, .jobs = 1};
    int code = parse(argc, argv, &o);
    if (code >= 0) return code;
    return o.version ? print_version(&o) : run(&o);
}
