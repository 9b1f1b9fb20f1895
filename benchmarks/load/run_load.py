#!/usr/bin/python3
"""Load test of llmetrics-demo --listen with wrk: throughput, latency, CPU cost
of the instrumentation, and a check that no request goes uncounted.

Phases (each a fixed-duration wrk run against a fresh or warm demo on 127.0.0.1):
  1. GET /metrics as Prometheus asks for it (OpenMetrics), the registry filled
     by --preload to ~11k series; again with gzip.
  2. POST /v1/chat/completions (chat.lua, rotating tenants) through
     monitored_router and the HTTP timer. Then /metrics is scraped and the sum
     of llm_router_http_requests_total{route="/v1/chat/completions"} is compared
     with wrk's counts: every response wrk got must be counted
     (completed <= counted), nothing counted twice or made up (counted <= sent,
     the requests wrk generated; the difference is at most the requests in
     flight when wrk stopped, i.e. <= connections).
  3. The same chat load against `--no-instrument` (no decorator, no timer): the
     difference in server CPU per request is the instrumentation's share.

Prints a Markdown table and the commands. Exit status 1 if a count is off.

  /usr/bin/python3 benchmarks/load/run_load.py --bin-dir build/gcc/bin [--duration 10]
      [--connections 8] [--wrk-threads 1] [--server-threads 1] [--preload 5000]
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Demo:
    def __init__(self, binary, *extra):
        self.cmd = [binary, "--listen", "127.0.0.1:0", *extra]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"demo did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.strip().rsplit(" ", 1)[1]

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def scrape(self, accept=None):
        req = urllib.request.Request(self.url + "/metrics", headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read().decode()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_wrk(args, url, script, env=None):
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
           "--latency", "-s", os.path.join(HERE, script), url]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                       timeout=args.duration + 60)
    m = re.search(r"^wrk-result (\{.*\})$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stdout}\n{r.stderr}")
    result = json.loads(m.group(1))
    result["rps"] = result["completed"] / (result["duration_us"] / 1e6)
    result["command"] = " ".join(shlex.quote(c) for c in cmd)
    return result


def counted_chat_requests(text):
    total = 0.0
    for line in text.splitlines():
        if line.startswith("llm_router_http_requests_total{") and 'route="/v1/chat/completions"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def sample_lines(text):
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def ms(us):
    return f"{us / 1000:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--server-threads", type=int, default=1)
    ap.add_argument("--preload", type=int, default=5000, help="simulated requests before serving (fills /metrics)")
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "llmetrics-demo")
    server = ["--threads", str(args.server_threads), "--preload", str(args.preload)]
    rows, ok = [], True

    demo = Demo(binary, *server)
    try:
        text = demo.scrape()
        series = sample_lines(text)
        for label, env in (("GET /metrics (OpenMetrics)", {}), ("GET /metrics (OpenMetrics, gzip)", {"LLMETRICS_GZIP": "1"})):
            cpu0 = demo.cpu_seconds()
            r = run_wrk(args, demo.url, "metrics.lua", env)
            r["cpu_us"] = (demo.cpu_seconds() - cpu0) / max(r["completed"], 1) * 1e6
            rows.append((f"{label}, {series} series, {len(text) / 1e6:.1f} MB", r))

        before = counted_chat_requests(demo.scrape())
        cpu0 = demo.cpu_seconds()
        r = run_wrk(args, demo.url, "chat.lua")
        r["cpu_us"] = (demo.cpu_seconds() - cpu0) / max(r["completed"], 1) * 1e6
        time.sleep(0.5)  # requests still in flight when wrk stopped finish on the server
        counted = counted_chat_requests(demo.scrape()) - before
        lost_ok = r["completed"] <= counted <= r["sent"] and r["sent"] - counted <= args.connections
        ok = ok and lost_ok
        print(f"chat, instrumented: wrk generated {r['sent']}, completed {r['completed']} "
              f"({r['ok']} 2xx, {r['non_2xx']} other), server counted {counted:.0f} -> "
              f"{'nothing lost' if lost_ok else 'COUNT MISMATCH'}")
        rows.append(("POST /v1/chat/completions, monitored_router + HTTP timer", r))
    finally:
        demo.stop()

    bare = Demo(binary, *server, "--no-instrument")
    try:
        cpu0 = bare.cpu_seconds()
        r = run_wrk(args, bare.url, "chat.lua")
        r["cpu_us"] = (bare.cpu_seconds() - cpu0) / max(r["completed"], 1) * 1e6
        rows.append(("POST /v1/chat/completions, --no-instrument", r))
    finally:
        bare.stop()

    print()
    print(f"wrk {args.wrk_threads} thread(s), {args.connections} connections, {args.duration} s per run; "
          f"server: {args.server_threads} I/O thread(s); {os.cpu_count()} CPUs shared by wrk and the server")
    print()
    print("| endpoint | req/s | p50 ms | p99 ms | server CPU µs/req |")
    print("|---|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['rps']:.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {r['cpu_us']:.1f} |")
    instr, base = rows[-2][1]["cpu_us"], rows[-1][1]["cpu_us"]
    if instr > 0:
        print(f"\ninstrumentation's share of the chat endpoint's server CPU: "
              f"{(instr - base) / instr * 100:.1f}% ({instr - base:.1f} µs of {instr:.1f} µs per request)")
    print("\ncommands:")
    for label, r in rows:
        print(f"  {r['command']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
