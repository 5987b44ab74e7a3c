#!/usr/bin/env python3
"""check_modules.py - the module graph of rill's C sources: no cycles, no huge files.

What it checks, and why
-----------------------
rill's house rules (docs/DESIGN.md, "The house") say one concept per file and
no two modules that depend on each other: when A needs B and B needs A, neither
can be read, tested or replaced alone, and the "owner" of a piece of state
stops being one place. This script makes that rule a test anyone can run from
the tree (./rill test runs it):

  * A module is a pair NAME.c/NAME.h in one folder, or a lone .c or .h. The
    folders frontend/, broker/, workers/ and common/ are separate namespaces
    (broker/metrics and frontend/metrics are two modules).
  * A -> B when A's .c or .h has `#include "B.h"` (a quoted include resolves in
    A's own folder first, then in common/, as meson's include paths do), or
    when A's .c calls a function DEFINED (not merely declared) in B's .c. A
    call resolves the way the linker does: A's own folder first, then common/
    (the three programs never link each other's folders). Calls of A's own
    functions, static or not, are no edge, and neither is anything inside one
    module's .c/.h.
  * A callback is no call: a module that hands a function pointer down (the
    documented way for a lower module to reach back up) makes no edge, since
    only `name(` tokens count, in code with comments and string literals
    stripped.
  * Every cycle among the scanned modules is reported, and so is every .c or
    .h longer than --max-lines (700: the house rule for a file one can read).

tests/ and build directories are not scanned; main.c and embed_file.c are
scanned like any other file (nothing calls into them, so they sit at the top
of the graph and cannot close a cycle).

Usage
-----
    tests/check_modules.py               # report; exit 1 on a cycle or a long file
    tests/check_modules.py --dot         # the graph in Graphviz dot
    tests/check_modules.py --self-test   # check the checker on a made-up tree
Options: --root DIR (default: the repository holding this script),
--max-lines N (default 700).

The output is one line per finding ("cycle: frontend/a -> frontend/b ->
frontend/a", "too long: frontend/x.c (812 lines)") and a last summary line
"module graph: N modules, N edges, N cycles, N files over 700 lines".
"""

import argparse
import io
import os
import re
import sys
import tempfile
from contextlib import redirect_stdout

FOLDERS = ("frontend", "broker", "workers", "common")
SHARED_FOLDER = "common"  # the folder every program includes and links
DEFAULT_MAX_LINES = 700
CYCLES_SHOWN_MAX = 200  # a tangle can hold many cycles: print this many, count all
CYCLES_COUNTED_MAX = 100000

# A definition: at column 0, a return type, the name, a parameter list that
# may span lines, then `{` after only white space (same or next line).
DEFINITION = re.compile(
    r"^(?P<static>static\s+)?(?:inline\s+)?"
    r"(?![ \t]*(?:if|for|while|switch|return|else|typedef|struct|union|enum)\b)"
    r"[A-Za-z_][\w \t\*]*?[\s\*]"
    r"(?P<name>[A-Za-z_]\w*)\s*\((?P<parameters>[^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*)\)\s*\{",
    re.MULTILINE)
CALL = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*\(")
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.MULTILINE)
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}


def strip_code(text, keep_strings=False):
    """TEXT with comments (and, unless KEEP_STRINGS, string and character
    literals) replaced by spaces; newlines stay, so line-anchored regexes work."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            literal = text[i:j]
            out.append(literal if keep_strings else c + " " * (len(literal) - 2) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Module:
    def __init__(self, folder, name):
        self.folder = folder
        self.name = name
        self.files = {}  # ".c" / ".h" -> path relative to the root
        self.own_functions = set()  # every function defined here, static or not

    @property
    def key(self):
        return self.folder + "/" + self.name


def read(root, relative):
    with open(os.path.join(root, relative), encoding="utf-8", errors="replace") as f:
        return f.read()


def find_modules(root):
    """{key: Module} for every .c/.h under the scanned folders (not recursive:
    subfolders such as build output are not sources)."""
    modules = {}
    for folder in FOLDERS:
        directory = os.path.join(root, folder)
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            base, extension = os.path.splitext(entry)
            if extension not in (".c", ".h") or not os.path.isfile(os.path.join(directory, entry)):
                continue
            module = modules.setdefault(folder + "/" + base, Module(folder, base))
            module.files[extension] = folder + "/" + entry
    return modules


def build_graph(root):
    """(modules, edges, line_counts): edges is {key: {key: [reasons]}}."""
    modules = find_modules(root)
    raw, code = {}, {}
    for module in modules.values():
        for path in module.files.values():
            raw[path] = read(root, path)
            code[path] = strip_code(raw[path])
    # Definitions: every function a module defines is its own; the non-static
    # ones defined in a .c are what other modules can call.
    defined_in = {}  # (folder, function) -> module key
    for module in modules.values():
        for extension, path in module.files.items():
            for match in DEFINITION.finditer(code[path]):
                name = match.group("name")
                if name in KEYWORDS:
                    continue
                module.own_functions.add(name)
                if extension == ".c" and not match.group("static"):
                    defined_in.setdefault((module.folder, name), module.key)
    edges = {key: {} for key in modules}

    def add(source, target, reason):
        if target != source:
            edges[source].setdefault(target, []).append(reason)

    for module in modules.values():
        search = [module.folder] + ([SHARED_FOLDER] if module.folder != SHARED_FOLDER else [])
        for path in module.files.values():
            kept = strip_code(raw[path], keep_strings=True)
            for header in INCLUDE.findall(kept):
                for folder in search:
                    target = folder + "/" + os.path.splitext(os.path.normpath(header))[0]
                    if header.endswith(".h") and target in modules and ".h" in modules[target].files:
                        add(module.key, target, "#include \"%s\" in %s" % (header, path))
                        break
        if ".c" not in module.files:
            continue
        path = module.files[".c"]
        for name in sorted(set(CALL.findall(code[path]))):
            if name in module.own_functions or name in KEYWORDS:
                continue
            for folder in search:
                target = defined_in.get((folder, name))
                if target is not None:
                    add(module.key, target, "%s calls %s()" % (path, name))
                    break
    line_counts = {path: text.count("\n") + (0 if text.endswith("\n") or not text else 1)
                   for path, text in raw.items()}
    return modules, edges, line_counts


def strongly_connected(nodes, edges):
    """Tarjan's components, iteratively (no recursion limit to hit)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def find_cycles(nodes, edges):
    """(cycles, complete): the elementary cycles, each starting at its smallest
    module, shortest first; complete is False when there were too many to count."""
    cycles = []
    for component in strongly_connected(sorted(nodes), edges):
        if len(component) < 2:
            continue
        members = set(component)
        for position, start in enumerate(component):
            allowed = set(component[position:])  # each cycle once: from its smallest node
            path, on_path = [start], {start}
            work = [iter(sorted(t for t in edges[start] if t in allowed))]
            while work:
                child = next(work[-1], None)
                if child is None:
                    work.pop()
                    on_path.discard(path.pop())
                    continue
                if child == start:
                    cycles.append(path + [start])
                    if len(cycles) >= CYCLES_COUNTED_MAX:
                        return sorted(cycles, key=lambda c: (len(c), c)), False
                elif child not in on_path and child in members and child in allowed:
                    path.append(child)
                    on_path.add(child)
                    work.append(iter(sorted(t for t in edges[child] if t in allowed)))
    return sorted(cycles, key=lambda c: (len(c), c)), True


def print_dot(modules, edges, cycles):
    in_cycle = {(c[i], c[i + 1]) for c in cycles for i in range(len(c) - 1)}
    print("digraph rill_modules {")
    print("    rankdir=LR;")
    print("    node [shape=box, fontname=\"monospace\"];")
    for folder in FOLDERS:
        keys = sorted(k for k, m in modules.items() if m.folder == folder)
        if not keys:
            continue
        print("    subgraph \"cluster_%s\" {" % folder)
        print("        label=\"%s/\";" % folder)
        for key in keys:
            print("        \"%s\" [label=\"%s\"];" % (key, modules[key].name))
        print("    }")
    for source in sorted(edges):
        for target in sorted(edges[source]):
            style = " [color=red]" if (source, target) in in_cycle else ""
            print("    \"%s\" -> \"%s\"%s;" % (source, target, style))
    print("}")


def check(root, max_lines=DEFAULT_MAX_LINES, dot=False, verbose=False):
    """Prints the report (or the dot graph) for ROOT; returns the exit status."""
    modules, edges, line_counts = build_graph(root)
    cycles, complete = find_cycles(modules, edges)
    if dot:
        print_dot(modules, edges, cycles)
        return 0
    for cycle in cycles[:CYCLES_SHOWN_MAX]:
        print("cycle: " + " -> ".join(cycle))
        if verbose:
            for source, target in zip(cycle, cycle[1:]):
                print("    %s -> %s: %s" % (source, target, "; ".join(edges[source][target])))
    if len(cycles) > CYCLES_SHOWN_MAX:
        print("... and %d more cycles" % (len(cycles) - CYCLES_SHOWN_MAX))
    long_files = sorted((path, count) for path, count in line_counts.items() if count > max_lines)
    for path, count in long_files:
        print("too long: %s (%d lines)" % (path, count))
    edge_count = sum(len(targets) for targets in edges.values())
    print("module graph: %d modules, %d edges, %d%s cycles, %d files over %d lines"
          % (len(modules), edge_count, len(cycles), "" if complete else "+",
             len(long_files), max_lines))
    return 1 if cycles or long_files else 0


SELF_TEST_TREE = {
    # A cycle through calls only: a.c calls b_run(), b.c calls a_run().
    "frontend/a.h": "void a_run(void);\n",
    "frontend/a.c": '#include "a.h"\nvoid b_run(void);\n'
                    "void a_run(void)\n{\n    b_run();\n}\n",
    "frontend/b.h": "void b_run(void);\n",
    "frontend/b.c": '#include "b.h"\nvoid a_run(void);\n'
                    "void b_run(void)\n{\n    a_run();\n}\n",
    # A cycle through includes only.
    "broker/x.h": '#include "y.h"\ntypedef int x_t;\n',
    "broker/y.h": '#include "x.h"\ntypedef int y_t;\n',
    # broker/metrics is not frontend/metrics: same name, other namespace.
    "broker/metrics.h": "int metrics_count(void);\n",
    "broker/metrics.c": '#include "metrics.h"\nint metrics_count(void) { return 1; }\n',
    # Clean: p uses q (an include and a call), q reaches back to p only through
    # a callback; calls in comments and strings, a static function of p's own
    # named like q's, and a multi-line definition change nothing.
    "workers/p.h": "void p_on_done(void);\n",
    "workers/p.c": '#include "p.h"\n#include "q.h"\n#include "shared.h"\n'
                   "static int q_helper(void)\n{\n    return 0;\n}\n"
                   "void p_on_done(void)\n{\n}\n"
                   "int p_start(void)\n{\n    /* q_never(); */\n"
                   '    const char *s = "q_never()";\n    (void)s;\n'
                   "    shared_log();\n    q_set_callback(p_on_done);\n"
                   "    return q_helper();\n}\n",
    "workers/q.h": "void q_set_callback(void (*callback)(void));\n",
    "workers/q.c": '#include "q.h"\n#include "metrics.h"\n'
                   "static void (*saved)(void);\n"
                   "void q_set_callback(void (*callback)(void))\n{\n    saved = callback;\n    saved();\n}\n"
                   "int q_helper(void)\n{\n    return 1;\n}\n"
                   "int q_never(int a,\n            int b)\n{\n    return a + b;\n}\n",
    "workers/metrics.h": "int metrics_count(void);\n",
    "workers/metrics.c": '#include "metrics.h"\nint metrics_count(void)\n{\n    return 2;\n}\n',
    "common/shared.h": "void shared_log(void);\n",
    "common/shared.c": '#include "shared.h"\nvoid shared_log(void)\n{\n}\n',
    # A long file, and a folder that is not scanned.
    "common/long.c": "int long_file;\n" * 21,
    "tests/t.c": '#include "a.h"\nvoid a_run(void) { }\n',
}


def self_test():
    """Builds SELF_TEST_TREE in a temporary folder and checks what is found."""
    failures = []

    def expect(what, condition):
        if not condition:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="rill-check-modules-") as root:
        for relative, text in SELF_TEST_TREE.items():
            os.makedirs(os.path.dirname(os.path.join(root, relative)), exist_ok=True)
            with open(os.path.join(root, relative), "w", encoding="utf-8") as f:
                f.write(text)
        modules, edges, _ = build_graph(root)
        cycles, complete = find_cycles(modules, edges)
        expect("two cycles, the call one and the include one: %r" % cycles,
               complete and cycles == [["broker/x", "broker/y", "broker/x"],
                                       ["frontend/a", "frontend/b", "frontend/a"]])
        expect("p -> q (include and call), p -> common/shared: %r" % edges["workers/p"],
               set(edges["workers/p"]) == {"workers/q", "common/shared"})
        expect("q -> workers/metrics, not broker/metrics; no q -> p: %r" % edges["workers/q"],
               set(edges["workers/q"]) == {"workers/metrics"})
        expect("p -> q by the include and q_set_callback() only (q_helper is p's own,"
               " q_never is in a comment and a string): %r" % edges["workers/p"].get("workers/q"),
               edges["workers/p"].get("workers/q") == ['#include "q.h" in workers/p.c',
                                                       "workers/p.c calls q_set_callback()"])
        expect("a -> b by a call: %r" % edges["frontend/a"],
               edges["frontend/a"] == {"frontend/b": ["frontend/a.c calls b_run()"]})
        expect("tests/ is not scanned", not any(key.startswith("tests/") for key in modules))
        expect("q_never defined over two lines", "q_never" in modules["workers/q"].own_functions)
        output = io.StringIO()
        with redirect_stdout(output):
            status = check(root, max_lines=20)
        lines = output.getvalue().splitlines()
        expect("exit 1 on cycles: %d" % status, status == 1)
        expect("report lines: %r" % lines, lines == [
            "cycle: broker/x -> broker/y -> broker/x",
            "cycle: frontend/a -> frontend/b -> frontend/a",
            "too long: common/long.c (21 lines)",
            "module graph: 10 modules, 7 edges, 2 cycles, 1 files over 20 lines"])
        for relative in ("frontend/b.c", "broker/y.h", "common/long.c"):
            os.remove(os.path.join(root, relative))
        output = io.StringIO()
        with redirect_stdout(output):
            status = check(root, max_lines=20)
        expect("exit 0 once the cycles and the long file are gone: %d %r"
               % (status, output.getvalue()), status == 0)
        expect("clean summary: %r" % output.getvalue(), output.getvalue().endswith(
            "module graph: 8 modules, 3 edges, 0 cycles, 0 files over 20 lines\n"))
    for failure in failures:
        print("self-test FAILED: " + failure)
    print("self-test: %s" % ("ok" if not failures else "%d failed" % len(failures)))
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the repository to check (default: this script's repository)")
    parser.add_argument("--max-lines", type=int, default=DEFAULT_MAX_LINES,
                        help="longest allowed .c/.h (default %(default)s)")
    parser.add_argument("--dot", action="store_true", help="print the graph in Graphviz dot")
    parser.add_argument("--verbose", action="store_true",
                        help="say which includes and calls make each edge of a cycle")
    parser.add_argument("--self-test", action="store_true", help="check the checker")
    options = parser.parse_args(argv)
    if options.self_test:
        return self_test()
    if not all(os.path.isdir(os.path.join(options.root, f)) for f in FOLDERS):
        print("check_modules: %s has no %s" % (options.root, "/, ".join(FOLDERS) + "/"),
              file=sys.stderr)
        return 2
    return check(options.root, options.max_lines, options.dot, options.verbose)


if __name__ == "__main__":
    sys.exit(main())
