#!/usr/bin/env python3
"""Generates single_include/llmetrics.hpp from include/llmetrics/llmetrics.hpp.

Every local include (quoted, or <llmetrics/...>) is inlined in place, exactly
once, depth first; system includes are kept where they are. `#pragma once` lines
of inlined headers are dropped (the result has one of its own).

  scripts/amalgamate.py            rewrite single_include/llmetrics.hpp
  scripts/amalgamate.py --check    exit 1 (with a diff) if it is out of date
  scripts/amalgamate.py -o FILE    write somewhere else
"""

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"
ENTRY = INCLUDE / "llmetrics" / "llmetrics.hpp"
OUTPUT = ROOT / "single_include" / "llmetrics.hpp"

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<(llmetrics/[^>]+)>)')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")

BANNER = """\
// llmetrics {version}: compile-time typed Prometheus metrics for C++20.
//
// GENERATED FILE, DO NOT EDIT. This is include/llmetrics/llmetrics.hpp with every
// llmetrics header inlined; regenerate it with `python3 scripts/amalgamate.py`
// after changing anything under include/ (a test fails while it is out of date).
// The core target (llmetrics::core): core, storage, registry, exposition and
// collectors. Needs C++20, Boost.Hana's headers and Threads (-pthread), nothing
// else. instrument, analytics, operate and serve are not included; use the
// installed headers and their CMake targets for those.
#pragma once
"""


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    m = re.search(r"project\s*\(\s*llmetrics\b[^)]*?VERSION\s+([0-9.]+)", text, re.S)
    return m.group(1) if m else "unknown"


def resolve(includer: Path, quoted: str | None, angled: str | None) -> Path | None:
    candidates = []
    if quoted:
        candidates.append(includer.parent / quoted)
        candidates.append(INCLUDE / quoted)
    else:
        candidates.append(INCLUDE / angled)
    for c in candidates:
        if c.is_file():
            return c.resolve()
    return None


def amalgamate() -> str:
    seen: set[Path] = set()
    out: list[str] = [BANNER.format(version=project_version())]

    def inline(path: Path, stack: tuple[Path, ...]) -> None:
        seen.add(path)
        rel = path.relative_to(INCLUDE).as_posix()
        out.append(f"\n// ---- begin {rel} ----\n")
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if PRAGMA_ONCE_RE.match(line):
                continue
            m = INCLUDE_RE.match(line)
            if not m:
                out.append(line + "\n")
                continue
            target = resolve(path, m.group(1), m.group(2))
            if target is None:
                if m.group(1):
                    sys.exit(f"{rel}:{lineno}: cannot find local include {line.strip()}")
                out.append(line + "\n")  # <llmetrics/...> that is not ours: leave it
                continue
            if target in stack:
                sys.exit(f"{rel}:{lineno}: include cycle through {target.relative_to(INCLUDE)}")
            if target not in seen:
                inline(target, stack + (target,))
        out.append(f"// ---- end {rel} ----\n")

    entry = ENTRY.resolve()
    inline(entry, (entry,))
    return "".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    ap.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = ap.parse_args()

    text = amalgamate()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current == text:
            print(f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output} is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{args.output} (committed)", tofile="regenerated", n=2))
        print(f"\n{args.output} is out of date: run `python3 scripts/amalgamate.py` and commit it")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
