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
  3. The same chat load against `--no-instrument` (no decorator, no timer);
     instrumented and bare runs alternate --repeat times, the best of each kept.
  4. The handler's own cost without the network: `--preload N` pushes N chat
     requests through the same handler in-process before the server starts;
     the time to get to "listening" (minus a --preload 0 start), instrumented vs
     bare, best of 3, gives the instrumentation's share of the chat endpoint's
     CPU without the noise of wrk and the kernel sharing two cores.

Prints a Markdown table and the commands. Exit status 1 if a count is off.

  /usr/bin/python3 benchmarks/load/run_load.py --bin-dir build/gcc/bin [--duration 10]
      [--connections 8] [--wrk-threads 1] [--server-threads 1] [--preload 1000] [--repeat 2]
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
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
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


def run_wrk(args, url, script, env=None, connections=None):
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{connections or args.connections}", f"-d{args.duration}s",
           "--timeout", "10s",
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
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections for the chat runs")
    ap.add_argument("--metrics-connections", type=int, default=2, help="wrk connections for the /metrics runs")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--server-threads", type=int, default=1)
    ap.add_argument("--preload", type=int, default=1000,
                    help="simulated requests from 128 tenants before serving (1000 gives ~11k series)")
    ap.add_argument("--repeat", type=int, default=2, help="chat runs per mode, best kept (default 2)")
    ap.add_argument("--in-process", type=int, default=100000, help="requests for the in-process measurement")
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "llmetrics-demo")
    server = ["--threads", str(args.server_threads), "--preload", str(args.preload)]
    rows, ok = [], True

    demo = Demo(binary, *server)
    try:
        series = sample_lines(demo.scrape())  # samples of the Prometheus text: the time series
        size = len(demo.scrape(PROMETHEUS_ACCEPT)) / 1e6
        for label, env in (("", {}), (", gzip", {"LLMETRICS_GZIP": "1"})):
            cpu0 = demo.cpu_seconds()
            r = run_wrk(args, demo.url, "metrics.lua", env, args.metrics_connections)
            r["cpu_us"] = (demo.cpu_seconds() - cpu0) / max(r["completed"], 1) * 1e6
            rows.append((f"GET /metrics, OpenMetrics{label}, {series} series ({size:.1f} MB)", r))
    finally:
        demo.stop()

    best = {}
    for _ in range(args.repeat):
        for instrumented in (True, False):
            d = Demo(binary, *server, *([] if instrumented else ["--no-instrument"]))
            try:
                before = counted_chat_requests(d.scrape())
                cpu0 = d.cpu_seconds()
                r = run_wrk(args, d.url, "chat.lua")
                r["cpu_us"] = (d.cpu_seconds() - cpu0) / max(r["completed"], 1) * 1e6
                if instrumented:
                    time.sleep(0.5)  # requests in flight when wrk stopped finish on the server
                    counted = counted_chat_requests(d.scrape()) - before
                    lost_ok = r["completed"] <= counted <= r["sent"] and r["sent"] - counted <= args.connections
                    ok = ok and lost_ok
                    print(f"chat, instrumented: wrk generated {r['sent']}, completed {r['completed']} "
                          f"({r['ok']} 2xx, {r['non_2xx']} other), server counted {counted:.0f} -> "
                          f"{'nothing lost' if lost_ok else 'COUNT MISMATCH'}")
            finally:
                d.stop()
            if instrumented not in best or r["rps"] > best[instrumented]["rps"]:
                best[instrumented] = r
    rows.append(("POST /v1/chat/completions, monitored_router + HTTP timer", best[True]))
    rows.append(("POST /v1/chat/completions, --no-instrument", best[False]))

    def startup(*extra):
        t0 = time.perf_counter()
        d = Demo(binary, *extra)
        elapsed = time.perf_counter() - t0
        d.stop()
        return elapsed

    per_request = {}
    for instrumented in (True, False):
        flag = [] if instrumented else ["--no-instrument"]
        base = min(startup("--preload", "0", *flag) for _ in range(3))
        loaded = min(startup("--preload", str(args.in_process), *flag) for _ in range(3))
        per_request[instrumented] = (loaded - base) / args.in_process * 1e6

    print()
    print(f"wrk {args.wrk_threads} thread(s), {args.metrics_connections} connections for /metrics and "
          f"{args.connections} for chat, {args.duration} s per run; "
          f"server: {args.server_threads} I/O thread(s); {os.cpu_count()} CPUs shared by wrk and the server")
    print()
    print("| endpoint | req/s | p50 ms | p99 ms | server CPU µs/req |")
    print("|---|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['rps']:.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {r['cpu_us']:.1f} |")
    instr, base = rows[-2][1]["cpu_us"], rows[-1][1]["cpu_us"]
    print(f"\nserver CPU per chat request over the network: {instr:.1f} µs instrumented, {base:.1f} µs bare")
    instr, base = per_request[True], per_request[False]
    print(f"in-process chat handler ({args.in_process} requests, best of 3): {instr:.2f} µs instrumented, "
          f"{base:.2f} µs bare -> instrumentation {instr - base:.2f} µs = {(instr - base) / instr * 100:.1f}% "
          f"of the handler")
    print("\ncommands:")
    for label, r in rows:
        print(f"  {r['command']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
