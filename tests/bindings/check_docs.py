#!/usr/bin/python3
"""The complete examples in docs/{c,cpp,python,rust}.md are the tested files.

A page marks a code block with `<!-- example: PATH -->` on the line before
its opening fence; the block must equal the file at PATH (relative to the
repository) byte for byte, so the example that tests/install and the binding
tests run is the one readers copy.

    check_docs.py REPO_ROOT
"""
import os
import re
import sys

PAGES = {
    "docs/c.md": "bindings/c/examples/inpaint.c",
    "docs/cpp.md": "bindings/cpp/examples/inpaint.cpp",
    "docs/python.md": "bindings/python/examples/inpaint.py",
    "docs/rust.md": "bindings/rust/gatedinpaint/examples/inpaint.rs",
}

MARKED = re.compile(r"<!-- example: (\S+) -->\n(`{3,})[^\n]*\n(.*?)\n\2\n", re.S)


def main(root):
    failures = 0
    for page, example in PAGES.items():
        text = open(os.path.join(root, page)).read()
        blocks = {path: body + "\n" for path, _, body in MARKED.findall(text)}
        if example not in blocks:
            print("FAIL: %s has no block marked <!-- example: %s -->" % (page, example))
            failures += 1
            continue
        for path, body in blocks.items():
            with open(os.path.join(root, path)) as f:
                want = f.read()
            if body != want:
                print("FAIL: the example in %s differs from %s: copy the file into the page"
                      % (page, path))
                failures += 1
            else:
                print("ok: %s shows %s" % (page, path))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
