#!/usr/bin/python3
"""A real Prometheus 2.42 ingests native histograms scraped as protobuf.

Starts `protobuf_fixture --serve` (the exposer serving native histograms of a
known log-uniform distribution of 20,000 observations spanning 1 ms ... 10 min:
recorded by lm::native_histogram families, one at schema 3 and one with
native_max_buckets<40>, whose storage halves its resolution to fit; and the same
as reference snapshots, plus one never observed) and a real `prometheus --enable-feature=native-histograms`
(temp dir, free port, 1 s scrape interval) scraping it through a proxy that
records what Prometheus asked for and got. Checks:
  - Prometheus sent its protobuf-first Accept header, byte for byte the one the
    unit tests use, and got protobuf; the target is up without error;
  - histogram_count and histogram_sum equal what was observed, exactly;
  - histogram_quantile(q) for q in 0.5, 0.9, 0.99 lies within the schema's
    relative error of the exact quantile: a factor 2^(2^-schema) (9.05% at
    schema 3, 41.4% at schema 1), for the full and the bucket-limited histogram.


Usage: /usr/bin/python3 test_native_prometheus.py --bin-dir <build>/bin
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from support import Prometheus, check, exit_status, prom_query, stop_process
from test_demo_service import RecordingProxy
from test_protobuf import decode_stream, load_schema

PROTO_ACCEPT_242 = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
                    "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;"
                    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROTO_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"


def scalar(base, query):
    result = prom_query(base, query)
    return float(result[0]["value"][1]) if len(result) == 1 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    prometheus = shutil.which("prometheus")
    if not check(prometheus is not None, "prometheus is not installed (scripts/install-deps.sh installs it)"):
        return exit_status("")
    tmp = tempfile.mkdtemp(prefix="llmetrics-native-prom-")
    fixture = subprocess.Popen([os.path.join(args.bin_dir, "protobuf_fixture"), "--serve"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    prom = proxy = None
    try:
        line = fixture.stdout.readline()
        if not check("listening on http://127.0.0.1:" in line, f"fixture did not start: {line!r}"):
            return exit_status("")
        port = int(line.strip().rsplit(":", 1)[1])
        facts = json.loads(fixture.stdout.readline())
        check(facts["fine_schema"] == 3 and facts["fine_buckets"] <= 160, f"fixture's fine histogram: {facts}")
        check(facts["limited_schema"] < 3 and facts["limited_buckets"] <= 40, f"fixture's limited histogram: {facts}")
        # The schemas the fixture serves, read from its own protobuf answer.
        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept": PROTO_ACCEPT_242})
        with urllib.request.urlopen(req, timeout=10) as r:
            served = {mf.name: mf.metric[0].histogram for mf in decode_stream(load_schema(tmp), r.read())}
        schemas = {name: served[name].schema for name in ("fx_observed_seconds", "fx_observed_limited_seconds")
                   if name in served}
        check(schemas.get("fx_observed_seconds") == 3, f"schema 3 kept within 160 buckets: {schemas}")
        check(schemas.get("fx_observed_limited_seconds", 3) < 3, f"the 40-bucket family lowered its schema: {schemas}")
        limited = served.get("fx_observed_limited_seconds")
        if limited is not None:
            width = sum(s.offset for s in list(limited.positive_span)[1:]) + sum(s.length for s in limited.positive_span)
            check(width <= 40, f"the limited family spans {width} buckets")
        proxy = RecordingProxy(port)
        prom = Prometheus(prometheus, tmp, extra=["--enable-feature=native-histograms"], config=(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: native\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{proxy.port}']\n"))
        base = prom.base
        if not check(prom.ready(), "prometheus started"):
            print(prom.log_tail())
            return exit_status("")

        count = None
        deadline = time.time() + 30
        while time.time() < deadline:
            count = scalar(base, 'histogram_count(fx_latency_seconds{case="fine"})')
            if count is not None:
                break
            time.sleep(0.5)
        check(count == facts["count"], f"histogram_count = {count}, observed {facts['count']}")
        total = float.fromhex(facts["sum"])
        got_sum = scalar(base, 'histogram_sum(fx_latency_seconds{case="fine"})')
        check(got_sum == total, f"histogram_sum = {got_sum!r}, observed {total!r}")
        for family in ("fx_limited_seconds", "fx_observed_seconds", "fx_observed_limited_seconds"):
            got = scalar(base, f"histogram_count({family})")
            check(got == facts["count"], f"histogram_count({family}) = {got}, observed {facts['count']}")
            got = scalar(base, f"histogram_sum({family})")
            check(got == total, f"histogram_sum({family}) = {got!r}, observed {total!r}")

        for family, schema in (("fx_latency_seconds", facts["fine_schema"]),
                               ("fx_limited_seconds", facts["limited_schema"]),
                               ("fx_observed_seconds", schemas.get("fx_observed_seconds", 3)),
                               ("fx_observed_limited_seconds", schemas.get("fx_observed_limited_seconds", 3))):
            factor = 2 ** (2 ** -schema)  # one bucket's upper / lower bound
            for q, exact in sorted(facts["quantiles"].items()):
                got = scalar(base, f"histogram_quantile({q}, {family})")
                ok = got is not None and exact / factor <= got <= exact * factor
                check(ok, f"{family} (schema {schema}) q={q}: {got} not within x{factor:.4f} of exact {exact}")
                print(f"{family} schema {schema} q={q}: {got:.6g} exact {exact:.6g} "
                      f"(relative error {abs(got - exact) / exact:.4f}, bound {factor - 1:.4f})")
        # Ingested as native: no classic series were made of them.
        check(prom_query(base, "fx_latency_seconds_count") == [], "no classic _count series for a native histogram")

        scrapes = [r for r in proxy.records if r[0] is not None]
        check(len(scrapes) >= 1, f"Prometheus scraped through the proxy: {len(scrapes)} scrapes")
        for accept, status, ctype in scrapes[:1] + scrapes[-1:]:
            check(accept == PROTO_ACCEPT_242, f"Prometheus 2.42's Accept header with native histograms: {accept!r}")
            check(status == 200 and ctype == PROTO_TYPE + "; escaping=underscores", f"negotiated: {status} {ctype}")
        up = prom_query(base, 'up{job="native"}')
        check(len(up) == 1 and up[0]["value"][1] == "1", f"target up: {up}")
    finally:
        if prom is not None:
            prom.stop()
        if proxy is not None:
            proxy.stop()
        stop_process(fixture)
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("Prometheus ingests the protobuf native histograms: count, sum and quantiles as observed")


if __name__ == "__main__":
    sys.exit(main())
