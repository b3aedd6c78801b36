/* Fill the white part of MASK in IMAGE and write the result to OUTPUT.
 *   inpaint IMAGE MASK OUTPUT [MODEL.gguf]
 * Without MODEL, the model embedded in the library is used.
 * Build: cc inpaint.c $(pkg-config --cflags --libs gatedinpaint) */
#include <gatedinpaint.h>
#include <stdio.h>

/* Called during gi_inpaint(); a non-zero return would cancel it. */
static int32_t show_progress(void *user, float done, const char *stage) {
    (void)user;
    fprintf(stderr, "\r%3d%% %-10s", (int)(done * 100.0f + 0.5f), stage);
    return 0;
}

int main(int argc, char **argv) {
    gi_model *model = NULL;
    gi_session *session = NULL;
    gi_tensor *image = NULL, *mask_image = NULL, *mask = NULL, *out = NULL;
    int32_t height, width, channels;
    int rc = 1;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s IMAGE MASK OUTPUT [MODEL.gguf]\n", argv[0]);
        return 2;
    }
    /* Each call returns GI_OK or an error; gi_last_error() says what was wrong. */
    if ((argc == 5 ? gi_model_load_file(argv[4], &model) : gi_model_load_default(&model)) ||
        gi_session_create(model, &session) ||
        gi_session_set_progress(session, show_progress, NULL) ||
        gi_image_load(argv[1], 3, &image) ||        /* RGB */
        gi_image_load(argv[2], 0, &mask_image) ||   /* as stored */
        gi_image_to_mask(mask_image, &mask) ||      /* 1 channel: the mask rule */
        gi_tensor_shape(image, &height, &width, &channels) ||
        gi_tensor_create(GI_DTYPE_U8, height, width, channels, &out) ||
        gi_inpaint(session, image, mask, NULL, out) ||
        gi_image_save(argv[3], out, 0)) {
        fprintf(stderr, "\ninpaint: %s\n", gi_last_error());
        goto done;
    }
    fprintf(stderr, "\nwrote %s (%dx%d) with libgatedinpaint %s\n", argv[3], (int)width,
            (int)height, gi_version_string());
    rc = 0;
done:
    gi_tensor_destroy(out);
    gi_tensor_destroy(mask);
    gi_tensor_destroy(mask_image);
    gi_tensor_destroy(image);
    gi_session_destroy(session);
    gi_model_release(model);
    return rc;
}
