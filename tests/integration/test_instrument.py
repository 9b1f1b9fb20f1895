#!/usr/bin/python3
"""monitored_router's hot path does not allocate.

Runs tests/integration/programs/instrument_probe.cpp, which replaces the global
operator new with a counting one, and checks that once a label set has been
seen, process() (tutorial catalog alone, and with the GenAI catalog beside it),
a streaming scope, a connection guard and an HTTP request timer make no heap
allocation at all.

Usage: /usr/bin/python3 test_instrument.py --bin-dir <build>/bin
"""

import argparse
import os
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    probe = os.path.join(args.bin_dir, "instrument_probe")
    if not os.path.exists(probe):
        print(f"{probe} not built", file=sys.stderr)
        return 1
    r = subprocess.run([probe], capture_output=True, text=True, timeout=120)
    failures = []
    if r.returncode != 0:
        failures.append(f"instrument_probe exited {r.returncode}: {r.stderr}")
    cases = dict()
    for line in r.stdout.splitlines():
        m = re.fullmatch(r"(\w+) calls=(\d+) allocations=(-?\d+)", line)
        if m:
            cases[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    expected = ["process_tutorial", "process_tutorial_and_genai", "stream_scope", "connection_guard",
                "http_request_timer"]
    for name in expected:
        if name not in cases:
            failures.append(f"no result for {name}: {r.stdout!r}")
        elif cases[name][1] != 0:
            failures.append(f"{name}: {cases[name][1]} allocations in {cases[name][0]} calls (expected none)")
    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print("test_instrument: no allocation on the hot path")
    return 0


if __name__ == "__main__":
    sys.exit(main())
