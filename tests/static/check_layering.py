#!/usr/bin/env python3
"""Checks that every `#include "..."` under include/llmetrics goes down the stack.

Layers, lowest first (a name in braces: peers, which must not include one another):
    core -> storage -> registry -> exposition -> {instrument, collectors, analytics}
         -> {serve, operate}
A header may include headers of its own layer and of lower layers; a `detail/`
folder belongs to the layer it sits in. The umbrella headers (include/llmetrics/*.hpp)
may include anything, and no layer header may include an umbrella.

    check_layering.py [--include-dir DIR]   check the tree (after a self-test)
    check_layering.py --self-test           only prove that bad includes are caught

Exits 1 naming file and line of each include that goes up or sideways.
"""

import argparse
import pathlib
import re
import sys
import tempfile

LAYERS = [("core",), ("storage",), ("registry",), ("exposition",),
          ("instrument", "collectors", "analytics"), ("serve", "operate")]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
UMBRELLA = "(umbrella)"
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def layer_of(path, root):
    """The layer folder of a header under root (include/llmetrics), or UMBRELLA."""
    parts = path.relative_to(root).parts
    return UMBRELLA if len(parts) == 1 else parts[0]


def describe(layer):
    return "an umbrella header" if layer == UMBRELLA else f"layer '{layer}'"


def check(root):
    """Returns the violations under root, as 'file:line: message' strings."""
    root = root.resolve()
    problems = []
    for header in sorted(root.rglob("*.hpp")):
        source = layer_of(header, root)
        shown = header.relative_to(root.parent)
        if source != UMBRELLA and source not in RANK:
            problems.append(f"{shown}:1: folder '{source}' is not in the layer order; add it to LAYERS")
            continue
        for number, line in enumerate(header.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = (header.parent / match.group(1)).resolve()
            where = f"{shown}:{number}: #include \"{match.group(1)}\""
            if not target.is_file():
                problems.append(f"{where} names no file")
                continue
            try:
                target_layer = layer_of(target, root)
            except ValueError:
                problems.append(f"{where} leaves include/llmetrics; use <...> for other libraries")
                continue
            if source == UMBRELLA or target_layer == source:
                continue
            if target_layer == UMBRELLA:
                problems.append(f"{where}: {describe(source)} includes an umbrella header; "
                                "include the headers it needs instead")
            elif target_layer not in RANK:
                problems.append(f"{where}: folder '{target_layer}' is not in the layer order")
            elif RANK[target_layer] > RANK[source]:
                problems.append(f"{where} goes up: {describe(source)} includes {describe(target_layer)}; "
                                "move what it needs down, or the header up")
            elif RANK[target_layer] == RANK[source]:
                problems.append(f"{where} goes sideways: peers {describe(source)} and "
                                f"{describe(target_layer)} must not include one another")
    return problems


def self_test():
    """A small tree with known good and bad includes; the check must flag exactly the bad ones."""
    files = {
        "llmetrics.hpp": '#include "core/a.hpp"\n#include "serve/s.hpp"\n',            # umbrella: anything
        "core/a.hpp": '#include "detail/b.hpp"\n',                                      # same layer
        "core/detail/b.hpp": "",
        "storage/s.hpp": '#include "../core/detail/b.hpp"\n#include "../registry/r.hpp"\n',  # ok, then UP
        "registry/r.hpp": '#include "../exposition/detail/e.hpp"\n',                    # UP into a detail/
        "exposition/detail/e.hpp": '#include "../../core/a.hpp"\n',                     # down from a detail/
        "instrument/i.hpp": '#include "../analytics/x.hpp"\n',                          # SIDEWAYS
        "analytics/x.hpp": '#include "../exposition/detail/e.hpp"\n',                   # down into a detail/
        "serve/s.hpp": '#include "../llmetrics.hpp"\n#include "missing.hpp"\n',         # UMBRELLA, MISSING
        "misc/m.hpp": "",                                                               # unknown folder
    }
    expected = [
        ("llmetrics/misc/m.hpp:1", "not in the layer order"),
        ("llmetrics/registry/r.hpp:1", "goes up"),
        ("llmetrics/serve/s.hpp:1", "includes an umbrella header"),
        ("llmetrics/serve/s.hpp:2", "names no file"),
        ("llmetrics/storage/s.hpp:2", "goes up"),
        ("llmetrics/instrument/i.hpp:1", "goes sideways"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "llmetrics"
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        found = check(root)
    missed = [e for e in expected if not any(p.startswith(e[0] + ":") and e[1] in p for p in found)]
    extra = [p for p in found if not any(p.startswith(e[0] + ":") and e[1] in p for e in expected)]
    for location, what in missed:
        print(f"self-test: the check missed {location} ({what})")
    for p in extra:
        print(f"self-test: the check flagged a good include: {p}")
    return not missed and not extra


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = pathlib.Path(__file__).resolve().parent
    parser.add_argument("--include-dir", type=pathlib.Path, default=here.parent.parent / "include")
    parser.add_argument("--self-test", action="store_true", help="only run the self-test")
    args = parser.parse_args()
    if not self_test():
        return 1
    if args.self_test:
        print("self-test: every bad include was caught")
        return 0
    problems = check(args.include_dir / "llmetrics")
    for p in problems:
        print(p)
    print(f"{len(problems)} include(s) break the layer order" if problems else "layering: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
