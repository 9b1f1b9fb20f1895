#!/usr/bin/env python3
"""The README's code is the examples' code, and every example is linked from it.

    check_readme_snippets.py --readme README.md [--update]

A README code block preceded by the line `<!-- snippet: examples/NAME.cpp -->`
must equal the region of that file between the lines `// snippet-begin` and
`// snippet-end`, unindented (the whole file when it has no such lines). Fails, naming the
README line, on a difference, a missing file or a marker without a code block;
--update rewrites the blocks from the files instead. Also fails when an
examples/*.cpp is not mentioned in the README, or when there is no snippet.
"""
import argparse
import difflib
import glob
import os
import re
import sys
import textwrap

MARKER = re.compile(r"^<!-- snippet: (\S+) -->$")


def region(path):
    lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
    stripped = [l.strip() for l in lines]
    if "// snippet-begin" in stripped:
        begin = stripped.index("// snippet-begin") + 1
        end = stripped.index("// snippet-end", begin)
        lines = lines[begin:end]
    return textwrap.dedent("".join(lines)).splitlines(keepends=True)  # a region inside main() reads unindented


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    root = os.path.dirname(os.path.abspath(args.readme))
    lines = open(args.readme, encoding="utf-8").read().splitlines(keepends=True)

    errors, out, snippets, i = [], [], 0, 0
    while i < len(lines):
        out.append(lines[i])
        m = MARKER.match(lines[i].rstrip("\n"))
        i += 1
        if not m:
            continue
        snippets += 1
        where = f"{args.readme}:{i}"
        source = os.path.join(root, m.group(1))
        if not os.path.isfile(source):
            errors.append(f"{where}: {m.group(1)} does not exist")
            continue
        if i >= len(lines) or not lines[i].startswith("```"):
            errors.append(f"{where}: the marker must be followed by a ``` code block")
            continue
        out.append(lines[i])
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            errors.append(f"{where}: the code block is not closed")
            break
        block, expected = lines[start:end], region(source)
        if block != expected and not args.update:
            diff = "".join(difflib.unified_diff(expected, block, fromfile=m.group(1), tofile=f"{where} block"))
            errors.append(f"{where}: the block differs from {m.group(1)}:\n{diff}")
        out.extend(expected if args.update else block)
        i = end

    readme_text = "".join(lines)
    for example in sorted(glob.glob(os.path.join(root, "examples", "*.cpp"))):
        rel = "examples/" + os.path.basename(example)
        if rel not in readme_text:
            errors.append(f"{args.readme}: {rel} is not linked from the README (add it to the examples table)")
    if snippets == 0:
        errors.append(f"{args.readme}: no `<!-- snippet: examples/... -->` block")

    if args.update:
        with open(args.readme, "w", encoding="utf-8") as f:
            f.write("".join(out))
    for e in errors:
        print(e)
    if errors:
        return 1
    print(f"README: {snippets} snippet(s) match the examples; every example is linked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
