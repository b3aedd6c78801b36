/* gi-inpaint --dump-gates DIR: the network's maps (gates or partial-
 * convolution masks) as PNG grids, one per layer and pass, channels tiled,
 * each tile the map resized to the image's shape (longest side at most
 * 256), plus index.tsv and index.html. */
#ifndef GI_TOOLS_DUMP_MAPS_H
#define GI_TOOLS_DUMP_MAPS_H

#include "gatedinpaint.h"

typedef struct gi_dump gi_dump;

/* Create DIR (if missing) and its index for an image_h x image_w image;
 * NULL (message printed) on failure. */
gi_dump *dump_open(const char *dir, int32_t image_h, int32_t image_w);

/* A gi_map_observer_fn with a gi_dump as user: writes one map; non-zero
 * (stop the call) when a file cannot be written. */
int32_t dump_observer(void *user, const gi_map_info *info, const float *data);

/* Close the index; 0 if every file was written. */
int dump_close(gi_dump *d);

#endif
