#!/usr/bin/env python3
"""Runs one example and compares its standard output with the checked-in one.

    run_example.py --exe <build>/bin/NAME --expected examples/NAME.output [--with-pushgateway] [--update]

Byte for byte: the examples print nothing that changes between runs. On a
difference it prints a unified diff and fails; --update rewrites the expected
file instead (review the diff before committing it). With --with-pushgateway a
real prometheus-pushgateway is started on a free 127.0.0.1 port and its URL is
the example's only argument.
"""
import argparse
import difflib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_pushgateway(workdir):
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if not binary:
        sys.exit("prometheus-pushgateway is not installed (scripts/install-deps.sh installs it)")
    url = f"http://127.0.0.1:{free_port()}"
    log = open(os.path.join(workdir, "pushgateway.log"), "w")
    proc = subprocess.Popen([binary, f"--web.listen-address={url[7:]}", "--persistence.file="], cwd=workdir,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            sys.exit("pushgateway did not start; log:\n" + open(log.name).read())
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--with-pushgateway", action="store_true")
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    gateway, argv = None, [args.exe]
    workdir = tempfile.mkdtemp(prefix="llmetrics-example-")
    try:
        if args.with_pushgateway:
            gateway, url = start_pushgateway(workdir)
            argv.append(url)
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    finally:
        if gateway:
            gateway.terminate()
            gateway.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    name = os.path.basename(args.exe)
    if r.returncode != 0:
        print(f"{name} exited with {r.returncode}; stderr:\n{r.stderr.decode(errors='replace')}")
        return 1
    if args.update:
        with open(args.expected, "wb") as f:
            f.write(r.stdout)
        print(f"{name}: wrote {args.expected}")
        return 0
    with open(args.expected, "rb") as f:
        expected = f.read()
    if r.stdout == expected:
        print(f"{name}: output as expected ({len(expected)} bytes)")
        return 0
    diff = difflib.unified_diff(expected.decode(errors="replace").splitlines(keepends=True),
                                r.stdout.decode(errors="replace").splitlines(keepends=True),
                                fromfile=args.expected, tofile=f"{name} (this run)")
    sys.stdout.writelines(diff)
    print(f"\n{name}: output differs from {args.expected} (run with --update if the change is meant)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
