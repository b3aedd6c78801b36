/*
 * gatedinpaint.hpp — header-only C++11 wrapper over the libgatedinpaint C API.
 *
 * RAII owners for the C handles and an exception (gatedinpaint::Error) for
 * every failed call. Nothing here adds to the library's ABI: every function
 * is inline and calls the C functions of gatedinpaint.h, so programs link
 * with `pkg-config --libs gatedinpaint` as C programs do. See docs/cpp.md.
 */
#ifndef GATEDINPAINT_HPP
#define GATEDINPAINT_HPP

#include <gatedinpaint.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace gatedinpaint {

/* A failed library call: status() is the gi_status (GI_E_*), what() the
 * library's message for it (gi_last_error()), which names the argument. */
class Error : public std::runtime_error {
public:
    Error(gi_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    gi_status status() const noexcept { return status_; }
    /* Short constant description of the status ("invalid argument", ...). */
    const char *status_string() const noexcept { return gi_status_string(status_); }

private:
    gi_status status_;
};

namespace detail {
inline void check(gi_status status) {
    if (status != GI_OK) {
        const char *message = gi_last_error();
        throw Error(status, *message ? std::string(message)
                                     : std::string(gi_status_string(status)));
    }
}
} // namespace detail

/* Library version actually linked ("MAJOR.MINOR.PATCH"). */
inline std::string version_string() { return gi_version_string(); }

/* The EXIF block and ICC profile of an image file (gi_metadata), read by
 * Tensor::load_image(path, channels, meta) and written by save_image(path,
 * quality, meta): movable, not copyable. */
class Metadata {
public:
    Metadata() noexcept : m_(nullptr) {}
    Metadata(Metadata &&other) noexcept : m_(other.m_) { other.m_ = nullptr; }
    Metadata &operator=(Metadata &&other) noexcept {
        if (this != &other) {
            gi_metadata_destroy(m_);
            m_ = other.m_;
            other.m_ = nullptr;
        }
        return *this;
    }
    Metadata(const Metadata &) = delete;
    Metadata &operator=(const Metadata &) = delete;
    ~Metadata() { gi_metadata_destroy(m_); }

    /* The blocks as bytes; empty where the file had none (or nothing was
     * loaded). The EXIF orientation reads 1: the pixels were turned upright. */
    std::string exif() const { return block(GI_META_EXIF); }
    std::string icc() const { return block(GI_META_ICC); }
    const gi_metadata *get() const noexcept { return m_; }

private:
    friend class Tensor;
    explicit Metadata(gi_metadata *m) noexcept : m_(m) {}
    std::string block(int32_t kind) const {
        const void *data = nullptr;
        std::size_t size = 0;
        if (m_) detail::check(gi_metadata_get(m_, kind, &data, &size));
        return data ? std::string(static_cast<const char *>(data), size) : std::string();
    }
    gi_metadata *m_;
};

/* Owner of one gi_tensor: movable, not copyable. */
class Tensor {
public:
    Tensor() noexcept : t_(nullptr) {}
    /* Takes ownership of `t` (may be null). */
    explicit Tensor(gi_tensor *t) noexcept : t_(t) {}
    Tensor(Tensor &&other) noexcept : t_(other.t_) { other.t_ = nullptr; }
    Tensor &operator=(Tensor &&other) noexcept {
        if (this != &other) {
            gi_tensor_destroy(t_);
            t_ = other.t_;
            other.t_ = nullptr;
        }
        return *this;
    }
    Tensor(const Tensor &) = delete;
    Tensor &operator=(const Tensor &) = delete;
    ~Tensor() { gi_tensor_destroy(t_); }

    /* Zero-filled tensor owning its memory. */
    static Tensor create(int32_t dtype, int32_t height, int32_t width, int32_t channels) {
        gi_tensor *t = nullptr;
        detail::check(gi_tensor_create(dtype, height, width, channels, &t));
        return Tensor(t);
    }
    /* Borrows `data` (see gi_tensor_wrap): keep it alive while the tensor is used. */
    static Tensor wrap(int32_t dtype, int32_t height, int32_t width, int32_t channels,
                       void *data, std::size_t row_stride) {
        gi_tensor *t = nullptr;
        detail::check(gi_tensor_wrap(dtype, height, width, channels, data, row_stride, &t));
        return Tensor(t);
    }
    /* Decodes an image file (gi_image_load); channels 0 = as stored, or 1, 3, 4. */
    static Tensor load_image(const std::string &path, int32_t channels = 0) {
        gi_tensor *t = nullptr;
        detail::check(gi_image_load(path.c_str(), channels, &t));
        return Tensor(t);
    }
    /* The same, and the file's EXIF and ICC profile into `meta`. */
    static Tensor load_image(const std::string &path, int32_t channels, Metadata &meta) {
        return load_image_ex(path, channels, 0, &meta);
    }
    /* gi_image_load_ex: flags GI_LOAD_16BIT keeps a 16-bit PNG or TIFF as a
     * GI_DTYPE_U16 tensor (other files stay GI_DTYPE_U8); `meta`, unless
     * null, receives the file's EXIF and ICC profile. */
    static Tensor load_image_ex(const std::string &path, int32_t channels, int32_t flags,
                                Metadata *meta = nullptr) {
        gi_tensor *t = nullptr;
        gi_metadata *m = nullptr;
        detail::check(gi_image_load_ex(path.c_str(), channels, flags, &t, meta ? &m : nullptr));
        if (meta) *meta = Metadata(m);
        return Tensor(t);
    }
    /* Encodes by extension (.png, .jpg/.jpeg; .webp, .tif where the library
     * has them); quality 0 = default. */
    void save_image(const std::string &path, int32_t quality = 0) const {
        detail::check(gi_image_save(path.c_str(), t_, quality));
    }
    /* The same, writing `meta` where the format holds it (gi_image_save_ex). */
    void save_image(const std::string &path, int32_t quality, const Metadata &meta) const {
        detail::check(gi_image_save_ex(path.c_str(), t_, quality, meta.get()));
    }
    /* The 1-channel mask gi_inpaint() wants, from a decoded mask image. */
    Tensor to_mask() const {
        gi_tensor *t = nullptr;
        detail::check(gi_image_to_mask(t_, &t));
        return Tensor(t);
    }
    /* The one mask rule for a 1-channel mask (gi_mask_normalize): largest
     * value 1 means non-zero is a hole, else > 127 is. A new 0/255 mask. */
    Tensor normalize_mask() const {
        gi_tensor *t = nullptr;
        detail::check(gi_mask_normalize(t_, &t));
        return Tensor(t);
    }
    /* Grows the holes (> 127) of this 1-channel mask in place by `radius`
     * pixels with a square (gi_mask_dilate); the result is 0/255. */
    void dilate_mask(int32_t radius) { detail::check(gi_mask_dilate(t_, radius)); }

    int32_t height() const { return shape(0); }
    int32_t width() const { return shape(1); }
    int32_t channels() const { return shape(2); }
    int32_t dtype() const noexcept { return gi_tensor_dtype(t_); }
    void *data() noexcept { return gi_tensor_data(t_); }
    std::size_t row_stride() const noexcept { return gi_tensor_row_stride(t_); }

    gi_tensor *get() const noexcept { return t_; }
    /* Gives up ownership; the caller must gi_tensor_destroy() the result. */
    gi_tensor *release() noexcept {
        gi_tensor *t = t_;
        t_ = nullptr;
        return t;
    }
    explicit operator bool() const noexcept { return t_ != nullptr; }

private:
    int32_t shape(int which) const {
        int32_t dims[3] = {0, 0, 0};
        detail::check(gi_tensor_shape(t_, &dims[0], &dims[1], &dims[2]));
        return dims[which];
    }
    gi_tensor *t_;
};

/* `filled` over `image` with a soft band of `radius` pixels outside the hole
 * of `mask` (gi_blend_feather): a new tensor shaped like `image`, equal to
 * `image` at distance >= radius from the hole. */
inline Tensor blend_feather(const Tensor &image, const Tensor &mask, const Tensor &filled,
                            int32_t radius) {
    Tensor out = Tensor::create(image.dtype(), image.height(), image.width(), image.channels());
    detail::check(gi_blend_feather(image.get(), mask.get(), filled.get(), radius, out.get()));
    return out;
}

/* A loaded model. Copies share it (reference counted by the library); it
 * is immutable and may be used from any number of threads. */
class Model {
public:
    static Model from_file(const std::string &path) {
        gi_model *m = nullptr;
        detail::check(gi_model_load_file(path.c_str(), &m));
        return Model(m);
    }
    static Model from_memory(const void *data, std::size_t size) {
        gi_model *m = nullptr;
        detail::check(gi_model_load_memory(data, size, &m));
        return Model(m);
    }
    /* The model embedded in the library; throws Error with GI_E_UNSUPPORTED
     * when this build carries none. */
    static Model load_default() {
        gi_model *m = nullptr;
        detail::check(gi_model_load_default(&m));
        return Model(m);
    }

    Model(const Model &other) noexcept : m_(gi_model_retain(other.m_)) {}
    Model(Model &&other) noexcept : m_(other.m_) { other.m_ = nullptr; }
    Model &operator=(Model other) noexcept {
        std::swap(m_, other.m_);
        return *this;
    }
    ~Model() { gi_model_release(m_); }

    std::string get_string(int32_t prop) const {
        const char *s = nullptr;
        detail::check(gi_model_get_string(m_, prop, &s));
        return s;
    }
    int64_t get_int(int32_t prop) const {
        int64_t v = 0;
        detail::check(gi_model_get_int(m_, prop, &v));
        return v;
    }
    std::string family() const { return get_string(GI_MODEL_FAMILY); }
    std::string name() const { return get_string(GI_MODEL_NAME); }
    std::string license() const { return get_string(GI_MODEL_LICENSE); }
    int64_t width() const { return get_int(GI_MODEL_WIDTH); }
    int64_t guide_channels() const { return get_int(GI_MODEL_GUIDE_CHANNELS); }

    gi_model *get() const noexcept { return m_; }

private:
    explicit Model(gi_model *m) noexcept : m_(m) {}
    gi_model *m_;
};

/* Scratch memory and options for running a model: use one thread at a time
 * (one session per thread). Movable, not copyable. */
class Session {
public:
    /* Called during inpaint() with the fraction done (0..1) and the stage
     * name. Return true to cancel: inpaint() then throws Error with
     * GI_E_CANCELLED. An exception thrown by the callback also cancels and
     * is rethrown from inpaint(). */
    typedef std::function<bool(float done, const char *stage)> Progress;

    explicit Session(const Model &model) : s_(nullptr), progress_(new ProgressState) {
        detail::check(gi_session_create(model.get(), &s_));
    }
    Session(Session &&other) noexcept
        : s_(other.s_), progress_(std::move(other.progress_)) {
        other.s_ = nullptr;
    }
    Session &operator=(Session &&other) noexcept {
        if (this != &other) {
            gi_session_destroy(s_);
            s_ = other.s_;
            progress_ = std::move(other.progress_);
            other.s_ = nullptr;
        }
        return *this;
    }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    ~Session() { gi_session_destroy(s_); }

    /* 0 = all cores. */
    void set_threads(int n) { set_int(GI_OPT_NUM_THREADS, n); }
    void set_int(int32_t option, int64_t value) {
        detail::check(gi_session_set_int(s_, option, value));
    }
    int64_t get_int(int32_t option) const {
        int64_t v = 0;
        detail::check(gi_session_get_int(s_, option, &v));
        return v;
    }

    /* Installs (or, with an empty function, removes) the progress callback.
     * The state lives on the heap so that moving the Session keeps the
     * pointer the library holds valid. */
    void set_progress(Progress fn) {
        progress_->fn = std::move(fn);
        detail::check(gi_session_set_progress(s_, progress_->fn ? &trampoline : nullptr,
                                              progress_.get()));
    }

    /* Fills the holes of `image` (RGB/RGBA u8) where `mask` (1 channel u8)
     * is > 127, writing `out` (same shape as image; may be image itself). */
    void inpaint(const Tensor &image, const Tensor &mask, Tensor &out,
                 const Tensor *guide = nullptr) {
        progress_->error = std::exception_ptr();
        gi_status status = gi_inpaint(s_, image.get(), mask.get(),
                                      guide ? guide->get() : nullptr, out.get());
        if (progress_->error) {
            std::exception_ptr error = progress_->error;
            progress_->error = std::exception_ptr();
            std::rethrow_exception(error);
        }
        detail::check(status);
    }
    /* As above, into a new tensor. */
    Tensor inpaint(const Tensor &image, const Tensor &mask, const Tensor *guide = nullptr) {
        Tensor out = Tensor::create(image.dtype(), image.height(), image.width(),
                                    image.channels());
        inpaint(image, mask, out, guide);
        return out;
    }

    gi_session *get() const noexcept { return s_; }

private:
    struct ProgressState {
        Progress fn;
        std::exception_ptr error;
    };
    // No exception may cross the C library: keep it and cancel instead.
    static int32_t trampoline(void *user, float done, const char *stage) {
        ProgressState *state = static_cast<ProgressState *>(user);
        try {
            return state->fn(done, stage) ? 1 : 0;
        } catch (...) {
            state->error = std::current_exception();
            return 1;
        }
    }

    gi_session *s_;
    std::unique_ptr<ProgressState> progress_;
};

} // namespace gatedinpaint

#endif /* GATEDINPAINT_HPP */
