#!/usr/bin/env python3
"""Module-level import cycles among the files and folders of src/.

For each module folder (src itself, src/model, src/kernels, ...) the units are its children:
a file `x.rs` and a folder `x/` (with `x/mod.rs` or a sibling `x.rs`) are one unit `x`.
An edge A -> B means code in A (any file of it) names B's items: `crate::...::B`,
`super::B`, or `super::NAME` / `crate::NAME` where the folder's root file re-exports NAME
from B (`pub use B::{NAME}`, `pub use B::*`). Comments and string literals are ignored;
`#[cfg(test)]` items are left out unless `--tests` is given, and so are the files of a module
declared under `#[cfg(test)]` (`#[cfg(test)] mod checks;`: test code, however its files
look). `src/bin` holds separate crates and is skipped.

Prints every cycle (one strongly connected set of units per line, with one cycle through it)
and exits 1 when src/model has one, test code included: a cycle there makes the model's
parts impossible to read or change one at a time (issue 22).

Usage: tools/module_cycles.py [--tests] [SRC_DIR]
"""

import re
import sys
from collections import defaultdict
from pathlib import Path


def strip_code(text):
    """`text` without comments, string and char literals (kept as empty `""`)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not text[i - 1].isalnum()):
            end = text.find('"' + m.group(1), i + m.end())
            out.append('""')
            i = n if end < 0 else end + 1 + len(m.group(1))
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'" and (m := re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])):
            out.append("''")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_tests(code):
    """`code` without `#[cfg(test)]` items (a block `{...}` or one item up to `;`)."""
    while (m := re.search(r"#\[cfg\(test\)\]", code)) is not None:
        j = m.end()
        while j < len(code) and code[j] not in "{;":
            j += 1
        if j < len(code) and code[j] == "{":
            depth = 0
            while j < len(code):
                depth += {"{": 1, "}": -1}.get(code[j], 0)
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        code = code[: m.start()] + code[j:]
    return code


def modules(src):
    """Every module of the crate: module path (a tuple) -> its files."""
    files = defaultdict(list)
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src).with_suffix("").parts
        if rel[0] == "bin":
            continue
        if rel[-1] in ("mod", "lib", "main"):
            rel = rel[:-1]
        files[tuple(rel)].append(f)
    return files


def mod_files(code):
    """The out-of-line modules `code` declares (`mod x;`), each as a path from the file's own
    module: `mod a { mod x; }` declares `(a, x)`."""
    found, inline, depth = [], [], 0
    for m in re.finditer(r"\bmod\s+(\w+)\s*([;{])|[{}]", code):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
            if inline and inline[-1][1] == depth:
                inline.pop()
        elif m.group(2) == ";":
            found.append(tuple(name for name, _ in inline) + (m.group(1),))
        else:
            inline.append((m.group(1), depth))
            depth += 1
    return found


def test_modules(mods, texts):
    """The modules declared under `#[cfg(test)]`: a declaration `strip_tests` removes."""
    found = set()
    for mod, fs in mods.items():
        for f in fs:
            code = texts[f]
            found |= {mod + m for m in set(mod_files(code)) - set(mod_files(strip_tests(code)))}
    return found


def group_paths(rest):
    """The first segments named by `rest` (after `crate::` / `super::`), braces expanded."""
    rest = rest.lstrip()
    if not rest.startswith("{"):
        m = re.match(r"(\w+(?:\s*::\s*\w+)*)", rest)
        return [re.split(r"\s*::\s*", m.group(1))] if m else []
    depth, j = 0, 0
    for j, ch in enumerate(rest):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0:
            break
    inner, parts, depth, start = rest[1:j], [], 0, 0
    for k, ch in enumerate(inner + ","):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(inner[start:k].strip())
            start = k + 1
    found = []
    for p in filter(None, parts):
        head = re.match(r"(\w+)\s*(::)?\s*(.*)", p, re.S)
        if head.group(2):
            found += [[head.group(1)] + q for q in group_paths(head.group(3))] or [[head.group(1)]]
        else:
            found.append([head.group(1)])
    return found


def mentions(code, here):
    """Absolute paths (lists of segments) that `code`, in module `here`, names."""
    found = []
    for m in re.finditer(r"\b(crate|super|self)\s*::", code):
        if m.start() > 0 and code[m.start() - 1] == ":":
            continue  # the `super` of `super::super::x` is read with the first one
        base = [] if m.group(1) == "crate" else list(here)
        rest = code[m.end():]
        if m.group(1) == "super":
            base = base[:-1]
        while (s := re.match(r"\s*super\s*::", rest)) is not None:
            base, rest = base[:-1], rest[s.end():]
        found += [base + p for p in group_paths(rest)]
    return found


def reexports(code):
    """Names a root file re-exports: name -> child, and the children glob-exported."""
    names, globs = {}, []
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+(?:self::)?(\w+)\s*::\s*", code):
        for p in group_paths(code[m.end():]):
            if p == ["*"] or p[-1] == "*":
                globs.append(m.group(1))
            else:
                names[p[-1]] = m.group(1)
        if code[m.end():].lstrip().startswith("*"):
            globs.append(m.group(1))
    return names, globs


def edges(src, with_tests):
    """Edges between sibling units: parent module -> set of (from child, to child)."""
    mods = modules(src)
    texts = {f: strip_code(f.read_text()) for fs in mods.values() for f in fs}
    tests = set() if with_tests else test_modules(mods, texts)
    codes = {}
    for mod, fs in mods.items():
        test_only = any(mod[:k] in tests for k in range(1, len(mod) + 1))
        for f in fs:
            codes[f] = texts[f] if with_tests else "" if test_only else strip_tests(texts[f])
    exported, items = {}, {}
    for mod, fs in mods.items():
        # A module is one file (`x.rs` or `x/mod.rs`; the crate root `lib.rs`).
        code = "".join(codes[f] for f in fs)
        exported[mod] = reexports(code)
        items[mod] = set(re.findall(r"\bpub(?:\([^)]*\))?\s+(?:struct|enum|fn|const|static|type|trait|mod)\s+(\w+)", code))

    def resolve(path):
        mod = ()
        for i, seg in enumerate(path):
            if mod + (seg,) in mods:
                mod += (seg,)
                continue
            names, globs = exported.get(mod, ({}, []))
            child = names.get(seg) or next((g for g in globs if seg in items.get(mod + (g,), ())), None)
            if child and mod + (child,) in mods:
                return resolve(list(mod + (child,)) + path[i + 1:])
            break
        return mod

    out = defaultdict(set)
    for mod, fs in mods.items():
        for f in fs:
            for path in mentions(codes[f], mod):
                target = resolve(path)
                k = 0
                while k < min(len(mod), len(target)) and mod[k] == target[k]:
                    k += 1
                if k < len(mod) and k < len(target):
                    out[mod[:k]].add((mod[k], target[k]))
    return out


def cycles(graph_edges):
    """Strongly connected sets of more than one unit, each with one cycle through it."""
    adj = defaultdict(set)
    for a, b in graph_edges:
        adj[a].add(b)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(adj[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(sorted(scc))

    for v in sorted(set(adj) | {b for _, b in graph_edges}):
        if v not in index:
            visit(v)
    return [(scc, shortest_cycle(adj, scc)) for scc in sorted(sccs)]


def shortest_cycle(adj, scc):
    """A shortest cycle through the first unit of `scc`, as a list of units."""
    start, inside = scc[0], set(scc)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(adj[v] & inside):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return path[::-1] + [start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return scc


def mutual(es, scc):
    """The pairs of `scc` that use each other directly, for the report."""
    pairs = sorted(f"{a} <-> {b}" for a, b in es if a < b and a in scc and (b, a) in es)
    return f" (both ways: {', '.join(pairs)})" if pairs else ""


def report(src, with_tests):
    found = {}
    for parent, es in sorted(edges(src, with_tests).items()):
        for scc, cycle in cycles(es):
            where = "src/" + "/".join(parent) if parent else "src"
            print(f"{where}: {{{', '.join(scc)}}}: {' -> '.join(cycle)}{mutual(es, scc)}")
            found.setdefault(parent, []).append(scc)
    return found


def main(argv):
    with_tests = "--tests" in argv
    args = [a for a in argv if a != "--tests"]
    src = Path(args[0] if args else Path(__file__).resolve().parent.parent / "src")
    print(f"module cycles in {src}{' (test code included)' if with_tests else ''}:")
    found = report(src, with_tests)
    if not found:
        print("none")
    model = found.get(("model",))
    if not with_tests:
        print("src/model, test code included:")
        model = report_model(src)
    if model:
        print("error: src/model has module cycles", file=sys.stderr)
        return 1
    return 0


def report_model(src):
    """The cycles inside src/model with test code counted, printed."""
    es = edges(src, True).get(("model",), set())
    model = cycles(es)
    for scc, cycle in model:
        print(f"src/model: {{{', '.join(scc)}}}: {' -> '.join(cycle)}{mutual(es, scc)}")
    if not model:
        print("none")
    return model


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
