#!/usr/bin/python3
"""Check that lib/ keeps the layer rule of docs/ARCHITECTURE.md.

    check_layers.py SOURCE_ROOT [STATIC_LIBRARY ...]

Reads the rule table between the `<!-- layers -->` markers of docs/ARCHITECTURE.md
(folder -> the folders or single headers it may use), then fails on
- an `#include "..."` in lib/FOLDER/* of a header outside FOLDER that the row does not allow;
- an include cycle among lib/ headers;
- with the static libraries given (the build's objects): an undefined symbol of an
  object in lib/FOLDER that is defined by an object the row does not allow
  (an entry `folder/name.h` allows the objects of `folder/name.c`).
Prints one line per violation and a closing `N passed, N failed` line.
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_rule(root):
    text = open(os.path.join(root, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    m = re.search(r"<!-- layers[^>]*-->(.*?)<!-- /layers -->", text, re.S)
    if not m:
        sys.exit("docs/ARCHITECTURE.md has no <!-- layers --> table")
    rule = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("folder", "") or set(cells[0]) <= set("-"):
            continue
        rule[cells[0]] = [e.strip() for e in cells[1].split(",") if e.strip()]
    return rule


def lib_files(root):
    out = []
    for d, _, names in os.walk(os.path.join(root, "lib")):
        for n in names:
            if n.endswith((".c", ".h", ".def")):
                out.append(os.path.join(d, n))
    return sorted(out)


def folder_of(root, path):
    rel = os.path.relpath(path, os.path.join(root, "lib"))
    return rel.split(os.sep)[0] if not rel.startswith("..") else None


def resolve(root, src, name):
    """The file an include names: next to the includer, then under lib/ and include/."""
    for base in (os.path.dirname(src), os.path.join(root, "lib"), os.path.join(root, "include")):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.exists(p):
            return p
    return None  # generated (kernels/isa_config.h) or missing: the compiler decides


def allowed(rule, folder, target_rel):
    """target_rel: 'graph/conv.h' relative to lib/."""
    tfolder = target_rel.split("/")[0]
    if tfolder == folder:
        return True
    for e in rule.get(folder, []):
        if e == tfolder or e == target_rel:
            return True
    return False


def check_includes(root, rule):
    bad, edges, n = [], {}, 0
    for f in lib_files(root):
        folder = folder_of(root, f)
        if folder not in rule:
            bad.append("%s: folder lib/%s is not in the layer table" % (os.path.relpath(f, root), folder))
            continue
        for name in INCLUDE.findall(open(f, encoding="utf-8").read()):
            t = resolve(root, f, name)
            if t is None:
                t = os.path.join(root, "lib", name)  # generated headers sit under lib/ in the build
            if os.path.relpath(t, os.path.join(root, "include")) == "gatedinpaint.h":
                continue
            tf = folder_of(root, t)
            if tf is None:
                continue
            n += 1
            edges.setdefault(f, []).append(t)
            rel = os.path.relpath(t, os.path.join(root, "lib")).replace(os.sep, "/")
            if not allowed(rule, folder, rel):
                bad.append("%s includes %s: lib/%s may use only %s" % (
                    os.path.relpath(f, root), rel, folder, ", ".join(rule[folder]) or "nothing"))
    return bad, edges, n


def find_cycle(edges):
    state = {}

    def visit(v, stack):
        state[v] = 1
        stack.append(v)
        for w in edges.get(v, []):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if not state.get(w):
                c = visit(w, stack)
                if c:
                    return c
        stack.pop()
        state[v] = 2
        return None

    for v in list(edges):
        if not state.get(v):
            c = visit(v, [])
            if c:
                return c
    return None


OBJ = re.compile(r"lib_(kernels|cpu|common|io|graph|families|model|runner|api)_(.*)\.c\.o$")


def object_source(lib, member):
    """('graph', 'graph/conv.c') for the object of lib/graph/conv.c (Meson names it
    lib_graph_conv.c.o); the per-ISA kernel libraries hold only lib/kernels objects."""
    if os.path.basename(lib).startswith("libgi_kernels_"):
        return "kernels", "kernels/" + member[:-2]
    m = OBJ.search(member)
    if not m:
        return None, None
    folder, rest = m.groups()
    return folder, "%s/%s.c" % (folder, rest)


def nm(lib, flag):
    out = subprocess.run(["nm", "-A", flag, lib], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        # "lib.a:member.o:0000 T sym" or "lib.a:member.o:         U sym"
        head, _, rest = line.rpartition(":")
        parts = rest.split()
        if len(parts) >= 2:
            yield head.split(":", 1)[1] if head.count(":") else head, parts[-2], parts[-1]


def check_calls(rule, libs):
    defined, undefined, n, bad = {}, [], 0, []
    for lib in libs:
        for member, kind, sym in nm(lib, "--defined-only"):
            if kind in "TDRBV" or kind in "tdrb":
                if kind.isupper():
                    defined[sym] = object_source(lib, member)
        for member, kind, sym in nm(lib, "--undefined-only"):
            undefined.append((object_source(lib, member), sym))
    for (folder, src), sym in undefined:
        if folder is None or sym not in defined:
            continue  # libc, libm, OpenMP, libpng...
        tfolder, tsrc = defined[sym]
        n += 1
        if tfolder == folder:
            continue
        entries = rule.get(folder, [])
        ok = tfolder in entries or any(e.endswith(".h") and tsrc == e[:-2] + ".c" for e in entries)
        if not ok:
            bad.append("lib/%s calls %s (lib/%s): lib/%s may use only %s" % (
                src, sym, tsrc, folder, ", ".join(entries) or "nothing"))
    return bad, n


def main():
    root = os.path.abspath(sys.argv[1])
    rule = read_rule(root)
    bad, edges, n_inc = check_includes(root, rule)
    cycle = find_cycle(edges)
    if cycle:
        bad.append("include cycle: " + " -> ".join(os.path.relpath(c, root) for c in cycle))
    n_calls = 0
    if len(sys.argv) > 2:
        cbad, n_calls = check_calls(rule, sys.argv[2:])
        bad += cbad
    for b in bad:
        print("FAIL", b)
    print("checked %d includes and %d calls across %d folders" % (n_inc, n_calls, len(rule)))
    print("%d passed, %d failed" % (n_inc + n_calls - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
