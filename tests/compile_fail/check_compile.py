#!/usr/bin/env python3
"""Compile-time checks for llmetrics, run by CTest.

The compiler command is taken from compile_commands.json (the entry of a probe
source that links llmetrics like every test does), so the checks use exactly the
compiler, flags, definitions and include directories of the build.

  check_compile.py --compile-commands FILE --probe SRC snippet.cpp
      The snippet's first line says what must happen:
        // expect-error: REGEX   compilation fails, the output matches REGEX, and the
                                 diagnostic is short: at most MAX_LINES lines and
                                 MAX_BYTES bytes, its first error line carrying the
                                 `llmetrics:` message (a user reads that line first)
        // expect: compiles      compilation succeeds
  check_compile.py --compile-commands FILE --probe SRC --headers INCLUDE_DIR
      Every include/llmetrics/**/*.hpp compiles on its own (included twice, so
      a missing #pragma once shows too).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

# The budget of one compile-fail diagnostic, on every compiler CI uses.
MAX_LINES = 12
MAX_BYTES = 2048

# Cases whose diagnostic is still over the budget on some compiler: the budget is
# reported for them but does not fail the test. Empty: every case must fit.
OVER_BUDGET: set = set()

# Flags that belong to producing an object file rather than to the language.
_DROP_WITH_ARG = {"-o", "-MF", "-MT", "-MQ"}
_DROP = {"-c", "-MD", "-MMD"}


def probe_command(compile_commands: Path, probe: Path):
    """Returns (directory, argv without source/output) of the probe's entry."""
    entries = json.loads(compile_commands.read_text())
    probe = probe.resolve()
    for e in entries:
        if Path(e["directory"], e["file"]).resolve() != probe:
            continue
        argv = e.get("arguments") or shlex.split(e["command"])
        out, skip = [], False
        for a in argv:
            if skip:
                skip = False
            elif a in _DROP_WITH_ARG:
                skip = True
            elif a in _DROP or Path(e["directory"], a).resolve() == probe:
                pass
            else:
                out.append(a)
        return e["directory"], out
    sys.exit(f"check_compile: {probe} not found in {compile_commands}; "
             "configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON and a Makefile or Ninja generator")


def compile_source(directory, argv, source: Path):
    cmd = argv + ["-fsyntax-only", str(source)]
    r = subprocess.run(cmd, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace")
    return r.returncode, r.stdout, cmd


def first_error_line(output: str):
    for line in output.splitlines():
        if re.search(r"\berror\b:", line):
            return line
    return None


def diagnostic_problems(output: str):
    """What makes a compile-fail diagnostic too long or its point hard to find."""
    problems = []
    n_lines, n_bytes = len(output.splitlines()), len(output.encode())
    if n_lines > MAX_LINES:
        problems.append(f"the diagnostic has {n_lines} lines (at most {MAX_LINES})")
    if n_bytes > MAX_BYTES:
        problems.append(f"the diagnostic has {n_bytes} bytes (at most {MAX_BYTES})")
    first = first_error_line(output)
    if first is None or "llmetrics:" not in first:
        problems.append("the first error line does not carry the `llmetrics:` message: "
                        f"{first!r}")
    return problems


def check_snippet(directory, argv, snippet: Path) -> int:
    first = snippet.read_text(errors="replace").splitlines()[:1]
    first = first[0].strip() if first else ""
    m_err = re.fullmatch(r"//\s*expect-error:\s*(.+?)\s*", first)
    m_ok = re.fullmatch(r"//\s*expect:\s*compiles\s*", first)
    if not (m_err or m_ok):
        print(f"{snippet}:1: first line must be `// expect-error: REGEX` or `// expect: compiles`")
        return 1
    if m_err and not snippet.with_name(snippet.stem + "_ok.cpp").exists():
        print(f"{snippet}: a snippet that must not compile needs a twin "
              f"{snippet.stem}_ok.cpp (first line `// expect: compiles`)")
        return 1

    rc, output, cmd = compile_source(directory, argv, snippet)
    print("$ " + shlex.join(cmd))
    if m_ok:
        if rc == 0:
            print("PASS: compiles as expected")
            return 0
        print(output)
        print("FAIL: expected to compile, but the compiler failed (output above)")
        return 1

    pattern = m_err.group(1)
    if rc == 0:
        print(output)
        print(f"FAIL: expected a compile error matching /{pattern}/, but it compiled")
        return 1
    if re.search(pattern, output):
        problems = diagnostic_problems(output)
        if problems and snippet.stem in OVER_BUDGET:
            for p in problems:
                print(f"OVER BUDGET (known, listed in OVER_BUDGET): {p}")
        elif problems:
            print(output)
            for p in problems:
                print(f"FAIL: {p}")
            return 1
        elif snippet.stem in OVER_BUDGET:
            print(f"NOTE: {snippet.stem} now fits the budget on this compiler; "
                  "remove it from OVER_BUDGET once it does on every compiler")
        print(f"PASS: failed to compile with a message matching /{pattern}/ "
              f"({len(output.splitlines())} lines, {len(output.encode())} bytes)")
        return 0
    lines = output.splitlines()
    shown = "\n".join(lines[:80]) + (f"\n... ({len(lines) - 80} more lines)" if len(lines) > 80 else "")
    print(shown)
    print(f"FAIL: compilation failed as expected, but no output line matches /{pattern}/")
    return 1


def check_headers(directory, argv, include_dir: Path, jobs: int) -> int:
    headers = sorted(p for p in include_dir.rglob("*.hpp"))
    if not headers:
        print(f"no headers under {include_dir}")
        return 1
    with tempfile.TemporaryDirectory(prefix="llmetrics-headers-") as tmp:
        def one(header: Path):
            rel = header.relative_to(include_dir).as_posix()
            tu = Path(tmp, rel.replace("/", "__") + ".cpp")
            tu.write_text(f"#include <{rel}>\n#include <{rel}>\n")
            rc, output, _ = compile_source(directory, argv, tu)
            return rel, rc, output

        failed = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for rel, rc, output in pool.map(one, headers):
                print(f"{'ok  ' if rc == 0 else 'FAIL'} {rel}")
                if rc != 0:
                    failed += 1
                    print("\n".join(output.splitlines()[:40]))
    print(f"{len(headers) - failed}/{len(headers)} headers compile on their own")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compile-commands", required=True, type=Path)
    ap.add_argument("--probe", required=True, type=Path)
    ap.add_argument("--headers", type=Path, help="check every header under this include dir")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("LLMETRICS_CHECK_JOBS", "2")))
    ap.add_argument("snippet", nargs="?", type=Path)
    args = ap.parse_args()
    directory, argv = probe_command(args.compile_commands, args.probe)
    if args.headers:
        return check_headers(directory, argv, args.headers.resolve(), max(1, args.jobs))
    if not args.snippet:
        ap.error("give a snippet or --headers")
    return check_snippet(directory, argv, args.snippet.resolve())


if __name__ == "__main__":
    sys.exit(main())
