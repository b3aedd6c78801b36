/* Allocation failure anywhere returns GI_E_NOMEM with a message, leaks
 * nothing (run under ASan/LSan and valgrind by tools/run-tests.sh) and
 * leaves the objects usable. For each operation, allocation number n is
 * made to fail (once, then "from n on") for n = 0, 1, ... until the
 * operation no longer reaches an n-th allocation; after each failure the
 * same operation is retried without failures and must give the reference
 * result. Uses the internal hook in lib/common/alloc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../model/gguf_builder.h"
#include "common/alloc.h"
#include "../common/check.h"
#include "gatedinpaint.h"


static uint8_t *model_data;
static size_t model_size;
static char tmpdir[] = "/tmp/gi-test-alloc-XXXXXX";

static const char *tmp(const char *name) {
    static char path[2][512];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

/* One operation under test: setup (no failures), run (failures injected),
 * verify (no failures: the object still works / result as reference),
 * teardown. */
typedef struct op {
    const char *name;
    void (*setup)(void);
    gi_status (*run)(void);
    void (*verify)(void);
    void (*teardown)(void);
} op;

static gi_model *model;
static gi_session *session;
static gi_tensor *img, *mask, *out, *ref, *loaded, *f_in, *f_out, *f_att, *rgba;

static gi_tensor *pattern(int h, int w, int c, int hole) {
    gi_tensor *t = NULL;
    gi_tensor_create(GI_DTYPE_U8, h, w, c, &t);
    uint8_t *p = gi_tensor_data(t);
    for (int i = 0; i < h * w * c; i++)
        p[i] = hole ? ((i / w) % h >= 6 && (i / w) % h < 12 ? 255 : 0) : (uint8_t)(i * 37 + 11);
    return t;
}

static void noop(void) {}

/* -- model load -- */
static gi_model *m_out;
static gi_status run_model_load(void) { return gi_model_load_memory(model_data, model_size, &m_out); }
static void verify_model(void) {
    gi_model_release(m_out);
    m_out = NULL;
    CHECK(gi_model_load_memory(model_data, model_size, &m_out) == GI_OK, "model reload");
    gi_model_release(m_out);
    m_out = NULL;
}

/* -- session create -- */
static gi_session *s_out;
static gi_status run_session(void) { return gi_session_create(model, &s_out); }
static void verify_session(void) {
    gi_session_destroy(s_out);
    s_out = NULL;
}

/* -- gi_inpaint on a fresh model and session (packed weights, arena) -- */
static void setup_inpaint(void) {
    CHECK(gi_model_load_memory(model_data, model_size, &model) == GI_OK, "model");
    CHECK(gi_session_create(model, &session) == GI_OK, "session");
    gi_session_set_int(session, GI_OPT_NUM_THREADS, 2);
    memset(gi_tensor_data(out), 0, 24 * 20 * 3);
}
static gi_status run_inpaint(void) { return gi_inpaint(session, img, mask, NULL, out); }
static void verify_inpaint(void) {
    CHECK(gi_inpaint(session, img, mask, NULL, out) == GI_OK, "inpaint after failure: %s",
          gi_last_error());
    CHECK(memcmp(gi_tensor_data(out), gi_tensor_data(ref), 24 * 20 * 3) == 0,
          "result after an allocation failure differs");
}
static void teardown_inpaint(void) {
    gi_session_destroy(session);
    gi_model_release(model);
    session = NULL;
    model = NULL;
}

/* -- tensors, masks -- */
static gi_tensor *t_out;
static gi_status run_tensor(void) { return gi_tensor_create(GI_DTYPE_F32, 9, 9, 9, &t_out); }
static gi_status run_to_mask(void) { return gi_image_to_mask(img, &t_out); }
static gi_status run_wrap(void) {
    static uint8_t b[16];
    return gi_tensor_wrap(GI_DTYPE_U8, 2, 2, 2, b, 8, &t_out);
}
static void verify_tensor(void) {
    gi_tensor_destroy(t_out);
    t_out = NULL;
}

/* -- image files -- */
static gi_status run_load_png(void) { return gi_image_load(tmp("in.png"), 1, &loaded); }
static gi_status run_load_jpg(void) { return gi_image_load(tmp("in.jpg"), 4, &loaded); }
static void verify_loaded(void) {
    gi_tensor_destroy(loaded);
    loaded = NULL;
}
static gi_status run_save_png(void) { return gi_image_save(tmp("out.png"), img, 0); }
/* RGBA: the alpha is dropped through a row buffer */
static gi_status run_save_jpg(void) { return gi_image_save(tmp("out.jpg"), rgba, 0); }
static void verify_saved(void) {}
/* The CLI's way: 16-bit samples kept, metadata read, then written. */
static gi_metadata *meta;
static gi_status run_load_ex(void) {
    return gi_image_load_ex(tmp("in.png"), 0, GI_LOAD_16BIT, &loaded, &meta);
}
static void verify_loaded_ex(void) {
    verify_loaded();
    gi_metadata_destroy(meta);
    meta = NULL;
}
static gi_status run_load_webp(void) { return gi_image_load(tmp("in.webp"), 0, &loaded); }
static gi_status run_save_webp(void) { return gi_image_save(tmp("out.webp"), mask, 0); }
static gi_status run_load_tiff(void) { return gi_image_load(tmp("in.tif"), 0, &loaded); }
static gi_status run_save_tiff(void) { return gi_image_save(tmp("out.tif"), rgba, 0); }

/* -- ops -- */
static void setup_ops(void) {
    CHECK(gi_session_create(model, &session) == GI_OK, "session");
}
static void teardown_ops(void) {
    gi_session_destroy(session);
    session = NULL;
}
static gi_status run_conv(void) {
    static float w[4 * 3 * 9], b[4];
    return gi_op_gated_conv2d(session, f_in, w, b, 4, 3, 1, 1, GI_ACT_ELU_GATED, 0, f_out);
}
static gi_status run_attention(void) {
    return gi_op_contextual_attention(session, f_in, NULL, 1, 10.0f, f_att);
}

static void exercise(const op *o) {
    int tried = 0;
    for (int sticky = 0; sticky < 2; sticky++) {
        for (int64_t n = 0; n < 100000; n++) {
            o->setup();
            gi_alloc_fail_after(n, sticky);
            gi_status st = o->run();
            int64_t count = gi_alloc_count();
            gi_alloc_fail_after(-1, 0);
            if (st == GI_OK) {
                CHECK(count <= n, "%s: n=%lld succeeded although allocation %lld failed",
                      o->name, (long long)n, (long long)n);
                o->verify();
                o->teardown();
                break;
            }
            tried++;
            CHECK(st == GI_E_NOMEM, "%s: allocation %lld failed -> status %d (%s), not NOMEM",
                  o->name, (long long)n, (int)st, gi_last_error());
            if (st != GI_E_NOMEM) {
                o->teardown();
                break;
            }
            CHECK(gi_last_error()[0] != '\0', "%s: no message", o->name);
            o->verify();
            o->teardown();
        }
    }
    printf("%-22s %d injected failures\n", o->name, tried);
    CHECK(tried > 0, "%s: no allocation was ever made to fail", o->name);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 2;
    tb_file *f = tb_model(4, 0, 0);
    model_data = tb_serialize(f, &model_size, NULL);
    tb_free(f);
    img = pattern(24, 20, 3, 0);
    mask = pattern(24, 20, 1, 1);
    out = pattern(24, 20, 3, 0);
    ref = pattern(24, 20, 3, 0);
    gi_tensor_create(GI_DTYPE_F32, 8, 6, 3, &f_in);
    gi_tensor_create(GI_DTYPE_F32, 8, 6, 2, &f_out);
    gi_tensor_create(GI_DTYPE_F32, 8, 6, 3, &f_att);
    /* the reference result, no failures */
    setup_inpaint();
    CHECK(gi_inpaint(session, img, mask, NULL, ref) == GI_OK, "reference: %s", gi_last_error());
    teardown_inpaint();
    rgba = pattern(16, 12, 4, 0);
    CHECK(gi_image_save(tmp("in.png"), rgba, 0) == GI_OK, "write png");
    CHECK(gi_image_save(tmp("in.jpg"), rgba, 0) == GI_OK, "write jpg");
#ifdef GI_HAVE_WEBP
    CHECK(gi_image_save(tmp("in.webp"), rgba, 0) == GI_OK, "write webp");
#endif
#ifdef GI_HAVE_TIFF
    CHECK(gi_image_save(tmp("in.tif"), rgba, 0) == GI_OK, "write tiff");
#endif
    CHECK(gi_model_load_memory(model_data, model_size, &model) == GI_OK, "model");

    const op ops[] = {
        {"gi_model_load_memory", noop, run_model_load, verify_model, noop},
        {"gi_session_create", noop, run_session, verify_session, noop},
        {"gi_tensor_create", noop, run_tensor, verify_tensor, noop},
        {"gi_tensor_wrap", noop, run_wrap, verify_tensor, noop},
        {"gi_image_to_mask", noop, run_to_mask, verify_tensor, noop},
        {"gi_image_load png", noop, run_load_png, verify_loaded, noop},
        {"gi_image_load jpeg", noop, run_load_jpg, verify_loaded, noop},
        {"gi_image_save png", noop, run_save_png, verify_saved, noop},
        {"gi_image_save jpeg", noop, run_save_jpg, verify_saved, noop},
        {"gi_image_load_ex png", noop, run_load_ex, verify_loaded_ex, noop},
#ifdef GI_HAVE_WEBP
        {"gi_image_load webp", noop, run_load_webp, verify_loaded, noop},
        {"gi_image_save webp", noop, run_save_webp, verify_saved, noop}, /* grey -> RGB */
#endif
#ifdef GI_HAVE_TIFF
        {"gi_image_load tiff", noop, run_load_tiff, verify_loaded, noop},
        {"gi_image_save tiff", noop, run_save_tiff, verify_saved, noop},
#endif
        {"gi_op_gated_conv2d", setup_ops, run_conv, noop, teardown_ops},
        {"gi_op_contextual_att.", setup_ops, run_attention, noop, teardown_ops},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) exercise(&ops[i]);
    gi_model_release(model);
    model = NULL;
    const op inpaint = {"gi_inpaint", setup_inpaint, run_inpaint, verify_inpaint,
                        teardown_inpaint};
    exercise(&inpaint);

    gi_tensor_destroy(img), gi_tensor_destroy(mask), gi_tensor_destroy(out);
    gi_tensor_destroy(ref), gi_tensor_destroy(f_in), gi_tensor_destroy(f_out);
    gi_tensor_destroy(f_att), gi_tensor_destroy(rgba);
    free(model_data);
    unlink(tmp("in.png")), unlink(tmp("in.jpg")), unlink(tmp("out.png")), unlink(tmp("out.jpg"));
    unlink(tmp("in.webp")), unlink(tmp("out.webp")), unlink(tmp("in.tif")), unlink(tmp("out.tif"));
    rmdir(tmpdir);
    return check_report();
}
