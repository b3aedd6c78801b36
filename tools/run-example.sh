#!/bin/sh
# Set up and build, then inpaint the bundled example photo:
#   examples/dune.jpg + examples/dune_mask.png -> examples/dune_inpainted.png
# MODEL=FILE.gguf picks a model file (e.g. the converted official weights,
# docs/CONVERTING.md); without it the model built into the library is used.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh" "$root/build"
set -- --image "$root/examples/dune.jpg" --mask "$root/examples/dune_mask.png" \
    --output "$root/examples/dune_inpainted.png"
if [ -n "${MODEL:-}" ]; then set -- "$@" --model "$MODEL"; fi
"$root/build/tools/gi-inpaint" "$@"
echo "wrote $root/examples/dune_inpainted.png"
