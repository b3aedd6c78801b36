// Fill the white part of MASK in IMAGE and write the result to OUTPUT.
//   inpaint IMAGE MASK OUTPUT [MODEL.gguf]
// Without MODEL, the model embedded in the library is used.
// Build: c++ -std=c++11 inpaint.cpp $(pkg-config --cflags --libs gatedinpaint)
#include <gatedinpaint.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace gi = gatedinpaint;

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        std::cerr << "usage: " << argv[0] << " IMAGE MASK OUTPUT [MODEL.gguf]\n";
        return 2;
    }
    try {
        gi::Model model = argc == 5 ? gi::Model::from_file(argv[4]) : gi::Model::load_default();
        gi::Session session(model);
        session.set_progress([](float done, const char *stage) {
            std::fprintf(stderr, "\r%3d%% %-10s", static_cast<int>(std::lround(done * 100)), stage);
            return false;  // true would cancel
        });
        gi::Tensor image = gi::Tensor::load_image(argv[1], 3);  // RGB
        gi::Tensor mask = gi::Tensor::load_image(argv[2]).to_mask();
        gi::Tensor out = session.inpaint(image, mask);
        out.save_image(argv[3]);
        std::cerr << "\nwrote " << argv[3] << " (" << out.width() << "x" << out.height()
                  << ") with " << model.family() << " width " << model.width() << "\n";
    } catch (const gi::Error &e) {
        // e.what() is the library's message; e.status() the GI_E_* code.
        std::cerr << "\ninpaint: " << e.what() << " [" << e.status_string() << "]\n";
        return 1;
    }
    return 0;
}
