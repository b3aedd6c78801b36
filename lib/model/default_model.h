/* The default model embedded in the library (models/default.gguf at build time),
 * generated into the build tree by lib/model/default_model.py. Size 0 = none. */
#ifndef GI_MODEL_DEFAULT_MODEL_H
#define GI_MODEL_DEFAULT_MODEL_H

#include <stddef.h>

extern const unsigned char gi_default_model_data[];
extern const size_t gi_default_model_size;

#endif
