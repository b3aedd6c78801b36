// The C++ wrapper (bindings/cpp/gatedinpaint.hpp), built as C++11:
// ownership, exceptions carrying status and message, progress, cancellation.
//   test_cpp MODEL.gguf PHOTO.jpg
#include <gatedinpaint.hpp>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gi = gatedinpaint;

static int failures, checks;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        checks++;                                                \
        if (!(cond)) {                                           \
            failures++;                                          \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);                   \
            std::fputc('\n', stderr);                            \
        }                                                        \
    } while (0)

// `fn` must throw gi::Error with `status` and a message containing `needle`.
template <class F>
static void expect_error(F fn, gi_status status, const char *needle, int line) {
    try {
        fn();
        CHECK(false, "line %d: no exception", line);
    } catch (const gi::Error &e) {
        CHECK(e.status() == status, "line %d: status %d, expected %d (%s)", line,
              (int)e.status(), (int)status, e.what());
        CHECK(std::strstr(e.what(), needle) != nullptr, "line %d: '%s' lacks '%s'", line,
              e.what(), needle);
    }
}

static bool same_pixels(gi::Tensor &a, gi::Tensor &b) {
    if (a.height() != b.height() || a.width() != b.width() || a.channels() != b.channels())
        return false;
    if (a.dtype() != b.dtype()) return false;
    size_t row = (size_t)a.width() * a.channels() * (a.dtype() == GI_DTYPE_U16 ? 2 : 1);
    for (int y = 0; y < a.height(); y++)
        if (std::memcmp((unsigned char *)a.data() + y * a.row_stride(),
                        (unsigned char *)b.data() + y * b.row_stride(), row) != 0)
            return false;
    return true;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s MODEL.gguf PHOTO.jpg EXIF_O6.jpg\n", argv[0]);
        return 2;
    }
    const int H = 48, W = 64;

    // Errors: status and the library's message.
    expect_error([] { gi::Model::from_file("/nonexistent/m.gguf"); }, GI_E_IO,
                 "/nonexistent/m.gguf", __LINE__);
    expect_error([] { gi::Tensor::create(GI_DTYPE_U8, 0, 4, 3); }, GI_E_INVALID_ARG, "0x4x3",
                 __LINE__);
    try {
        gi::Model d = gi::Model::load_default();
        CHECK(d.family() == "deepfill_v2", "default family %s", d.family().c_str());
    } catch (const gi::Error &e) {
        CHECK(e.status() == GI_E_UNSUPPORTED, "default model: %s", e.what());
        CHECK(std::string(e.status_string()) == gi_status_string(GI_E_UNSUPPORTED), "status");
    }

    gi::Model model = gi::Model::from_file(argv[1]);
    CHECK(model.family() == "deepfill_v2" && model.width() == 8 && model.guide_channels() == 0,
          "model %s width %lld", model.family().c_str(), (long long)model.width());
    expect_error([&] { model.get_int(12345); }, GI_E_INVALID_ARG, "", __LINE__);
    {
        gi::Model copy = model; // shares the model: retain/release
        gi::Model moved = std::move(copy);
        CHECK(moved.get() == model.get(), "copies share one handle");
    }

    // A crop of the photo in caller memory, with a hole.
    gi::Tensor photo = gi::Tensor::load_image(argv[2], 3);
    std::vector<unsigned char> pixels((size_t)H * W * 3), holes((size_t)H * W, 0);
    for (int y = 0; y < H; y++)
        std::memcpy(&pixels[(size_t)y * W * 3],
                    (unsigned char *)photo.data() + (size_t)(y + 100) * photo.row_stride() + 600,
                    (size_t)W * 3);
    for (int y = 16; y < 32; y++)
        for (int x = 20; x < 44; x++) holes[(size_t)y * W + x] = 255;
    gi::Tensor image = gi::Tensor::wrap(GI_DTYPE_U8, H, W, 3, pixels.data(), (size_t)W * 3);
    gi::Tensor mask = gi::Tensor::wrap(GI_DTYPE_U8, H, W, 1, holes.data(), W);

    gi::Session session(model);
    session.set_threads(1);
    CHECK(session.get_int(GI_OPT_NUM_THREADS) == 1, "threads");
    gi::Tensor out = session.inpaint(image, mask);
    int outside_same = 1, inside_changed = 0;
    for (int i = 0; i < H * W; i++)
        for (int c = 0; c < 3; c++) {
            unsigned char a = pixels[(size_t)i * 3 + c];
            unsigned char b = ((unsigned char *)out.data())[(size_t)i * 3 + c];
            if (holes[i]) inside_changed |= a != b;
            else outside_same &= a == b;
        }
    CHECK(outside_same && inside_changed, "outside same %d, inside changed %d", outside_same,
          inside_changed);

    // Shape errors name the argument.
    gi::Tensor small_mask = gi::Tensor::create(GI_DTYPE_U8, H - 1, W, 1);
    expect_error([&] { session.inpaint(image, small_mask); }, GI_E_SHAPE, "mask", __LINE__);

    // Progress, then cancellation (out untouched), then an exception from
    // the callback, then the session still works after being moved.
    std::vector<float> seen;
    session.set_progress([&](float done, const char *) {
        seen.push_back(done);
        return false;
    });
    gi::Tensor out2 = session.inpaint(image, mask);
    CHECK(same_pixels(out, out2), "deterministic");
    CHECK(seen.size() > 2 && seen.back() == 1.0f, "progress calls %zu", seen.size());
    for (size_t i = 1; i < seen.size(); i++) CHECK(seen[i] >= seen[i - 1], "progress order");

    gi::Tensor untouched = gi::Tensor::create(GI_DTYPE_U8, H, W, 3);
    session.set_progress([](float done, const char *) { return done > 0.5f; });
    expect_error([&] { session.inpaint(image, mask, untouched); }, GI_E_CANCELLED, "cancel",
                 __LINE__);
    bool zero = true;
    for (int i = 0; i < H * W * 3; i++) zero &= ((unsigned char *)untouched.data())[i] == 0;
    CHECK(zero, "a cancelled call wrote its output");

    session.set_progress([](float, const char *stage) -> bool {
        throw std::runtime_error(std::string("stop in ") + stage);
    });
    try {
        session.inpaint(image, mask);
        CHECK(false, "the callback's exception was lost");
    } catch (const gi::Error &e) {
        CHECK(false, "got gi::Error (%s) instead of the callback's exception", e.what());
    } catch (const std::runtime_error &e) {
        CHECK(std::strncmp(e.what(), "stop in ", 8) == 0, "exception %s", e.what());
    }

    gi::Session moved(std::move(session));
    moved.set_progress(gi::Session::Progress());
    gi::Tensor out3 = moved.inpaint(image, mask);
    CHECK(same_pixels(out, out3), "moved session result");

    // In place: out may be the image.
    moved.inpaint(image, mask, image);
    CHECK(same_pixels(image, out), "in place");

    // Mask helpers: a 0/1 mask normalised, grown, then a feathered blend.
    std::vector<unsigned char> ones((size_t)H * W, 0);
    ones[(size_t)20 * W + 30] = 1;
    gi::Tensor one = gi::Tensor::wrap(GI_DTYPE_U8, H, W, 1, ones.data(), W);
    gi::Tensor hole = one.normalize_mask();
    CHECK(ones[(size_t)20 * W + 30] == 1, "normalize_mask changed its input");
    unsigned char *h = (unsigned char *)hole.data();
    CHECK(h[hole.row_stride() * 20 + 30] == 255 && h[hole.row_stride() * 20 + 31] == 0,
          "normalized %d %d", h[hole.row_stride() * 20 + 30], h[hole.row_stride() * 20 + 31]);
    hole.dilate_mask(2);
    int holes_after = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) holes_after += h[hole.row_stride() * y + x] == 255;
    CHECK(holes_after == 25 && h[hole.row_stride() * 22 + 32] == 255, "dilated: %d holes",
          holes_after);
    expect_error([&] { hole.dilate_mask(-1); }, GI_E_INVALID_ARG, "radius", __LINE__);
    expect_error([&] { image.normalize_mask(); }, GI_E_SHAPE, "", __LINE__);

    std::vector<unsigned char> white((size_t)H * W * 3, 255);
    gi::Tensor filled = gi::Tensor::wrap(GI_DTYPE_U8, H, W, 3, white.data(), (size_t)W * 3);
    gi::Tensor soft = gi::blend_feather(out, hole, filled, 4);
    unsigned char *sp = (unsigned char *)soft.data(), *op = (unsigned char *)out.data();
    size_t st = soft.row_stride(), ot = out.row_stride();
    CHECK(sp[st * 20 + 30 * 3] == 255, "hole from filled");
    // Two pixels from the hole, radius 4: alpha 0.5.
    double half = (255 + op[ot * 20 + 34 * 3]) / 2.0;
    CHECK(sp[st * 20 + 34 * 3] >= half - 1 && sp[st * 20 + 34 * 3] <= half + 1,
          "band %d, expected %.1f", sp[st * 20 + 34 * 3], half);
    CHECK(sp[st * 20 + 40 * 3] == op[ot * 20 + 40 * 3] && sp[st * 5] == op[ot * 5],
          "beyond the band");
    expect_error([&] { gi::blend_feather(out, small_mask, filled, 4); }, GI_E_SHAPE, "",
                 __LINE__);

    /* EXIF carried: a JPEG stored turned (orientation 6) to a PNG and back */
    {
        gi::Metadata meta;
        gi::Tensor turned = gi::Tensor::load_image(argv[3], 0, meta);
        std::string exif = meta.exif();
        CHECK(exif.size() > 8 && (exif.compare(0, 4, "II*\0", 4) == 0 ||
                                  exif.compare(0, 4, "MM\0*", 4) == 0),
              "EXIF block of %zu bytes", exif.size());
        CHECK(meta.icc().empty(), "no ICC profile in the file");
        const std::string png = std::string(argv[1]) + ".meta.png"; /* in the build tree */
        turned.save_image(png, 0, meta);
        gi::Metadata again;
        gi::Tensor back = gi::Tensor::load_image(png, 0, again);
        CHECK(again.exif() == exif, "EXIF carried");
        CHECK(same_pixels(turned, back), "pixels carried upright");
        gi::Metadata moved(std::move(again));
        CHECK(moved.exif() == exif && again.exif().empty(), "moved metadata");
        std::remove(png.c_str());
    }

    /* 16 bits: a PNG round trip keeps every sample; inpaint keeps the known
     * ones bit-identical and fills the hole with the 8-bit fill x257 */
    {
        std::vector<uint16_t> deep(pixels.size());
        for (size_t i = 0; i < deep.size(); i++)
            deep[i] = (uint16_t)(pixels[i] * 257 + (pixels[i] < 255 ? i % 199 : 0));
        gi::Tensor t16 = gi::Tensor::wrap(GI_DTYPE_U16, H, W, 3, deep.data(), (size_t)W * 6);
        const std::string png = std::string(argv[1]) + ".16.png"; /* in the build tree */
        t16.save_image(png);
        gi::Tensor back = gi::Tensor::load_image_ex(png, 0, GI_LOAD_16BIT);
        CHECK(back.dtype() == GI_DTYPE_U16 && same_pixels(t16, back), "16-bit PNG round trip");
        CHECK(gi::Tensor::load_image(png).dtype() == GI_DTYPE_U8, "8 bits without the flag");
        gi::Metadata none;
        gi::Tensor with_meta = gi::Tensor::load_image_ex(png, 3, GI_LOAD_16BIT, &none);
        CHECK(with_meta.dtype() == GI_DTYPE_U16 && none.exif().empty(), "16 bits with meta");
        std::remove(png.c_str());
        expect_error([&] { t16.save_image(png.substr(0, png.size() - 4) + ".jpg"); },
                     GI_E_UNSUPPORTED, "", __LINE__);
        gi::Tensor out16 = moved.inpaint(t16, mask);
        const uint16_t *o = (const uint16_t *)out16.data();
        int kept = 1, widened = 1, changed = 0;
        for (int i = 0; i < H * W * 3; i++) {
            if (!holes[(size_t)i / 3]) kept &= o[i] == deep[(size_t)i];
            else widened &= o[i] % 257 == 0, changed |= o[i] != deep[(size_t)i];
        }
        CHECK(out16.dtype() == GI_DTYPE_U16 && kept && widened && changed,
              "16-bit inpaint: known kept %d, fill x257 %d, hole changed %d", kept, widened,
              changed);
    }

    std::printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
