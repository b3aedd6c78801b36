#!/usr/bin/env python3
"""Fill the white part of MASK in IMAGE and write the result to OUTPUT.

    python3 inpaint.py IMAGE MASK OUTPUT [MODEL.gguf]

Without MODEL, the model embedded in the library is used.
"""
import sys

import gatedinpaint as gi


def show_progress(done, stage):
    print(f"\r{done:4.0%} {stage:<10}", end="", file=sys.stderr)
    return False  # True would cancel


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    image, mask, output = argv[1:4]
    try:
        model = gi.Model.from_file(argv[4]) if len(argv) == 5 else gi.Model.default()
        with model, gi.Session(model) as session:
            session.inpaint(image, mask, progress=show_progress, output=output)
    except gi.GatedInpaintError as e:
        # e.message names the offending argument; e.status is the GI_E_* code.
        sys.exit(f"\ninpaint: {e.message} [{type(e).__name__}, status {e.status}]")
    print(f"\nwrote {output} with libgatedinpaint {gi.library_version()}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
