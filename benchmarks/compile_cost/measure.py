#!/usr/bin/env python3
"""What a user pays to compile against llmetrics, measured through the installed package.

Configures and builds llmetrics (CMake Release, -O2) in a temporary directory,
installs it to a temporary prefix, configures benchmarks/compile_cost/consumer/
against that prefix, and compiles each of its translation units under
/usr/bin/time (wall seconds, peak RSS of the compiler), interleaved, --reps times:

  (a) a_core     <llmetrics/llmetrics.hpp>, one counter + one histogram rendered
  (b) b_json     <nlohmann/json.hpp> only, a small object dumped
  (c) c_exposer  an exposer on 127.0.0.1:0 serving a registry
  (d) d_beast    Boost.Beast http + Asio headers only, a trivial request built

and prints each TU's median and the ratios a/b and c/d (targets: a/b <= 1.5,
c/d <= 1.5 with c under 500 MB).

  python3 benchmarks/compile_cost/measure.py [--cxx g++-12] [--reps 3] [--keep DIR]
"""

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(__file__).resolve().parent / "consumer"
TUS = ["a_core", "b_json", "c_exposer", "d_beast"]


def run(cmd, **kw):
    print("$", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def timed(command: list[str], directory: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one compile.
    CPU time is printed too: on a shared machine it is the steadier of the two."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *command],
                       cwd=directory, check=True)
        wall, user, system, kbytes = report.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kbytes) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cxx", default="g++-12")
    ap.add_argument("--reps", type=int, default=1, help="interleaved rounds; the median is reported")
    ap.add_argument("--jobs", default="2", help="parallel jobs for building llmetrics itself")
    ap.add_argument("--keep", help="work in this directory and keep it (default: a temporary one)")
    args = ap.parse_args()

    work_ctx = tempfile.TemporaryDirectory(prefix="llmetrics-compile-cost-") if not args.keep else None
    work = Path(args.keep or work_ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    build, prefix, consumer = work / "llmetrics-build", work / "prefix", work / "consumer-build"
    release = [f"-DCMAKE_CXX_COMPILER={args.cxx}", "-DCMAKE_BUILD_TYPE=Release",
               "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"]

    run(["cmake", "-S", ROOT, "-B", build, *release, "-DLLMETRICS_BUILD_TESTS=OFF",
         "-DLLMETRICS_BUILD_EXAMPLES=OFF", "-DLLMETRICS_BUILD_BENCHMARKS=OFF", "-DLLMETRICS_INSTALL=ON"],
        stdout=subprocess.DEVNULL)
    run(["cmake", "--build", build, "-j", args.jobs])
    run(["cmake", "--install", build, "--prefix", prefix], stdout=subprocess.DEVNULL)
    run(["cmake", "-S", CONSUMER, "-B", consumer, *release, f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"],
        stdout=subprocess.DEVNULL)

    commands = {}
    for entry in json.loads((consumer / "compile_commands.json").read_text()):
        name = Path(entry["file"]).stem
        if name in TUS:
            commands[name] = (shlex.split(entry["command"]), entry["directory"])
    missing = [t for t in TUS if t not in commands]
    if missing:
        print(f"measure: no compile command for {missing}", file=sys.stderr)
        return 1

    samples = {t: [] for t in TUS}
    for rep in range(args.reps):
        for t in TUS:
            samples[t].append(timed(*commands[t]))
            wall, cpu, mb = samples[t][-1]
            print(f"  round {rep + 1}: {t:<10} {wall:6.2f} s wall {cpu:6.2f} s cpu {mb:5.0f} MB", flush=True)
    # Everything links and runs too (c links the compiled serve library).
    run(["cmake", "--build", consumer, "-j", args.jobs], stdout=subprocess.DEVNULL)
    run([consumer / "c_exposer"], stdout=subprocess.DEVNULL)

    med = {t: [statistics.median(x[i] for x in samples[t]) for i in range(3)] for t in TUS}
    print()
    print(f"compile cost through the installed package ({args.cxx} -O2, CMake Release, median of {args.reps})")
    print(f"{'TU':<12}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}")
    for t in TUS:
        print(f"{t:<12}{med[t][0]:8.2f}{med[t][1]:8.2f}{med[t][2]:9.0f}")
    for name, (x, y), label in (("a/b", ("a_core", "b_json"), "core vs nlohmann/json"),
                                ("c/d", ("c_exposer", "d_beast"), "exposer vs Beast+Asio")):
        print(f"{name} ({label}): {med[x][0] / med[y][0]:5.2f}x wall, {med[x][1] / med[y][1]:5.2f}x cpu  (target <= 1.5)")
    print(f"c peak RSS {med['c_exposer'][2]:.0f} MB (target <= 500)")
    if work_ctx:
        work_ctx.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
