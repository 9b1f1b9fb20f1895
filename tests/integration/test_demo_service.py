#!/usr/bin/python3
"""llmetrics-demo as a service, scraped by a real Prometheus.

Starts two `llmetrics-demo --listen 127.0.0.1:0` instances and a real
`prometheus` (temp dir, free port, 1 s scrape interval) scraping both; sends
chat completions from several tenants to both (well-formed, malformed, hostile
tenant values, no tenant at all), then asks Prometheus for
`sum by (tenant_id) (llm_router_http_requests_total)` and compares it exactly
with what was sent. Also checks:
  - negotiation: Prometheus' own Accept header gets OpenMetrics (and Prometheus
    ingests it: the `_created` series only OpenMetrics carries are there), curl's
    gets Prometheus text; `promtool check metrics` accepts the text and
    prometheus_client's OpenMetrics parser the other, both with the hostile tenant
    values intact; Prometheus 3's headers get the version and `escaping=` they ask
    for (text 1.0.0 too; protobuf where it comes first); one target is scraped through a proxy
    that records what Prometheus asked and got: the negotiated type, target up;
  - a flood of 15,000 distinct tenants on a third instance keeps every family
    within its 10,000-series bound (the rest in tenant_id="__overflow__", every
    request still counted) and the process's memory bounded;
  - --push: on SIGTERM the instance pushes its registry to a real Pushgateway.
  - --upstreams 3 with a 30% failure rate: the served /metrics shows attempts,
    retries and fallbacks, their sums consistent with the requests (attempts =
    routed calls + retries + fallbacks), one health state per upstream, spend
    equal to the requests' cost and budgets consistent with it.

Usage: /usr/bin/python3 test_demo_service.py --bin-dir <build>/bin
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from support import BackgroundHTTPServer, Prometheus, QuietHandler, check, exit_status, free_port, prom_query, rss_mb, stop_process, wait_http
from test_demo import check_gateway_families, sample_lines

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
# Prometheus 3.x: default, and with native histograms or created timestamps on (protobuf first).
PROMETHEUS3_ACCEPT = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                      "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;"
                      "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
PROMETHEUS3_PROTO_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
                            "q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                            "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;"
                            "escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROTO_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
# What each Prometheus default Accept header must get back.
EXPECTED_TYPE = {PROMETHEUS_ACCEPT: OM_TYPE + "; escaping=underscores",
                 PROMETHEUS3_ACCEPT: OM_TYPE + "; escaping=allow-utf-8",
                 PROMETHEUS3_PROTO_ACCEPT: PROTO_TYPE + "; escaping=underscores"}
ROUTE = "/v1/chat/completions"
HOSTILE = [
    'quo"te',
    "back\\slash\\",
    "comma,and=equals",
    "with spaces  inside",
    "unicode ü 日本 🚀",
    "brace} {\"x\"=\"y\"}",
    "x" * 1000 + "ü" * 500,  # 2 KB (1000 + 2 * 500 bytes)
]
# The bound a plain build must meet. Sanitizer runtimes add shadow memory and
# quarantines (ASan holds freed blocks back; TSan's shadow is several times the
# heap), so there the check only guards against unbounded growth.
RSS_LIMIT_MB = {"": 128, "address": 640, "thread": 1024}.get(os.environ.get("LLMETRICS_SANITIZER", ""), 128)


class Demo:
    """One llmetrics-demo --listen process."""

    def __init__(self, binary, *extra):
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://127.0.0.1:" not in line:
            raise RuntimeError(f"llmetrics-demo did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.conn = None

    def chat(self, tenant=None, body=None):
        """POST a chat completion on a keep-alive connection; returns the status."""
        if body is None:
            body = json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}],
                               "max_tokens": 32}).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.putrequest("POST", ROUTE)
                self.conn.putheader("Content-Type", "application/json")
                self.conn.putheader("Content-Length", str(len(body)))
                if tenant is not None:
                    self.conn.putheader("X-Tenant-ID", tenant.encode("utf-8"))  # raw UTF-8 bytes
                self.conn.endheaders(body)
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return None

    def get(self, path, accept=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path, headers={"Accept": accept} if accept else {})
        r = c.getresponse()
        body = r.read()
        c.close()
        ctype = r.getheader("Content-Type")
        return r.status, ctype, body if (ctype or "").startswith(PROTO_TYPE) else body.decode("utf-8")

    def rss_mb(self):
        return rss_mb(self.proc.pid)

    def stop(self):
        if self.conn:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


class RecordingProxy(BackgroundHTTPServer):
    """Forwards GET requests to a demo and records (Accept, status, Content-Type)
    of each, so the test sees what Prometheus asked for and what it was given."""

    def __init__(self, target_port):
        records = self.records = []

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "accept-encoding",
                                                                                   "user-agent")}
                c = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                c.request("GET", self.path, headers=headers)
                r = c.getresponse()
                body = r.read()
                c.close()
                records.append((self.headers.get("Accept"), r.status, r.getheader("Content-Type")))
                self.send_response(r.status)
                for name in ("Content-Type", "Content-Encoding", "Vary"):
                    if r.getheader(name) is not None:
                        self.send_header(name, r.getheader(name))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


def send_traffic(demo, plan):
    """plan: list of (tenant or None, count, body or None); returns {tenant_label: count}."""
    sent = {}
    for tenant, count, body in plan:
        label = tenant if tenant else "unknown"
        for _ in range(count):
            demo.chat(tenant, body)
        sent[label] = sent.get(label, 0) + count
    return sent


def samples_by_name(families):
    out = {}
    for f in families:
        for s in f.samples:
            out.setdefault(s.name, []).append(s)
    return out


def check_negotiation(demo, promtool, expected_tenants):
    # Prometheus' Accept header: OpenMetrics, readable by an independent parser.
    status, ctype, om = demo.get("/metrics", PROMETHEUS_ACCEPT)
    check(status == 200 and ctype == EXPECTED_TYPE[PROMETHEUS_ACCEPT],
          f"Prometheus Accept -> OpenMetrics, got {status} {ctype}")
    try:
        om_samples = samples_by_name(parse_openmetrics(om))
        om_tenants = {s.labels["tenant_id"] for s in om_samples.get("llm_router_http_requests_total", [])}
        check(expected_tenants <= om_tenants,
              f"OpenMetrics tenants intact: missing {sorted(expected_tenants - om_tenants)[:3]}")
    except Exception as e:  # noqa: BLE001 - the parser's complaint is the message
        check(False, f"OpenMetrics parser rejected the scrape: {e}")

    # curl's Accept (*/*): Prometheus text, accepted by promtool.
    r = subprocess.run(["curl", "-s", "-D", "-", f"http://127.0.0.1:{demo.port}/metrics"], capture_output=True,
                       timeout=30)
    head, _, text = r.stdout.partition(b"\r\n\r\n")
    check(b"content-type: text/plain; version=0.0.4; charset=utf-8" in head.lower(),
          f"curl -> Prometheus text: {head[:200]!r}")
    text = text.decode("utf-8")
    pc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    check(pc.returncode == 0, f"promtool check metrics: rc={pc.returncode} {pc.stdout[:300]} {pc.stderr[:300]}")
    try:
        text_samples = samples_by_name(parse_prometheus(text))
        tenants = {s.labels["tenant_id"] for s in text_samples.get("llm_router_http_requests_total", [])}
        check(expected_tenants <= tenants, f"text tenants intact: missing {sorted(expected_tenants - tenants)[:3]}")
    except Exception as e:  # noqa: BLE001
        check(False, f"Prometheus text parser rejected the scrape: {e}")

    # Prometheus 3: OpenMetrics with the escaping asked for; protobuf when it comes first.
    for accept in (PROMETHEUS3_ACCEPT, PROMETHEUS3_PROTO_ACCEPT):
        status, ctype, body = demo.get("/metrics", accept)
        check(status == 200 and ctype == EXPECTED_TYPE[accept], f"Prometheus 3 Accept {accept[:40]}... -> {ctype}")
        if accept == PROMETHEUS3_ACCEPT:
            check(body.endswith("# EOF\n"), "Prometheus 3 gets an OpenMetrics body")
        else:
            check(isinstance(body, bytes) and b"llm_router_http_requests_total" in body, "Prometheus 3 gets protobuf")
    # scrape_protocols: [PrometheusText1.0.0]: the 0.0.4 body under the 1.0.0 type.
    status, ctype, v1 = demo.get("/metrics", "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5")
    check(status == 200 and ctype == "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
          f"text 1.0.0 asked -> {status} {ctype}")
    pc = subprocess.run([promtool, "check", "metrics"], input=v1, capture_output=True, text=True, timeout=60)
    check(pc.returncode == 0, f"promtool check metrics (text 1.0.0): rc={pc.returncode} {pc.stderr[:300]}")
    try:
        tenants = {s.labels["tenant_id"] for s in samples_by_name(parse_prometheus(v1))
                   .get("llm_router_http_requests_total", [])}
        check(expected_tenants <= tenants, f"text 1.0.0 tenants intact: missing {sorted(expected_tenants - tenants)[:3]}")
    except Exception as e:  # noqa: BLE001
        check(False, f"Prometheus text parser rejected the 1.0.0 scrape: {e}")
    # Protobuf only ([PrometheusProto]).
    status, ctype, _ = demo.get("/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                                "encoding=delimited;q=0.6,*/*;q=0.5")
    check(status == 200 and ctype == PROTO_TYPE + "; escaping=underscores", f"protobuf asked -> {status} {ctype}")


def run_prometheus_part(binary, tmp, prometheus, promtool):
    a, b = Demo(binary), Demo(binary)
    demos = [a, b]
    proxy = RecordingProxy(b.port)  # Prometheus scrapes b through it
    prom = Prometheus(prometheus, tmp, config=(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: llmetrics-demo\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{a.port}', '127.0.0.1:{proxy.port}']\n"))
    base = prom.base
    try:
        if not check(prom.ready(), "prometheus started"):
            print(prom.log_tail())
            return
        malformed = b'{"model": "gpt-4", "messages": "not an array"}'
        broken = b'{"model": '
        plan_a = [("tenant-a", 30, None), ("tenant-b", 20, None), (None, 5, None), ("tenant-c", 4, malformed)]
        plan_b = [("tenant-a", 11, None), ("tenant-c", 7, None), ("tenant-c", 3, broken),
                  ("tenant-b", 2, b'{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}')]
        plan_b += [(t, 1 + i, None) for i, t in enumerate(HOSTILE)]
        expected = {}
        for demo, plan in ((a, plan_a), (b, plan_b)):
            for tenant, n in send_traffic(demo, plan).items():
                expected[tenant] = expected.get(tenant, 0) + n
        check(a.chat("tenant-a", malformed) == 400, "malformed body -> 400")
        expected["tenant-a"] += 1
        check(a.get("/healthz")[0] == 200 and a.get("/readyz")[0] == 200, "healthz/readyz after bad input")

        # Prometheus' view across both instances must match exactly.
        query = "sum by (tenant_id) (llm_router_http_requests_total)"
        got = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            got = {r["metric"].get("tenant_id", ""): float(r["value"][1]) for r in prom_query(base, query)}
            if got == {k: float(v) for k, v in expected.items()}:
                break
            time.sleep(0.5)
        check(got == {k: float(v) for k, v in expected.items()},
              f"PromQL {query} == sent: got {sorted(got.items())[:6]}..., want {sorted(expected.items())[:6]}...")
        by_status = {r["metric"]["status_code"]: float(r["value"][1]) for r in
                     prom_query(base, 'sum by (status_code) (llm_router_http_requests_total{tenant_id="tenant-c"})')}
        check(by_status.get("400") == 7.0, f"tenant-c's 7 malformed requests counted as 400: {by_status}")
        up = prom_query(base, 'up{job="llmetrics-demo"}')
        check(len(up) == 2 and all(r["value"][1] == "1" for r in up), f"both targets up: {up}")
        # _created series exist only in OpenMetrics: Prometheus negotiated it.
        created = prom_query(base, "llm_router_http_requests_created")
        check(len(created) > 0, "Prometheus ingested OpenMetrics (_created series present)")

        # What Prometheus asked for and got through the proxy, and its verdict.
        scrapes = [r for r in proxy.records if r[0] is not None]
        check(len(scrapes) >= 1, f"Prometheus scraped through the proxy: {len(scrapes)} scrapes")
        if scrapes:
            print(f"prometheus scraped {len(scrapes)}x: Accept {scrapes[-1][0]!r} -> {scrapes[-1][2]!r}")
        for accept, status, ctype in scrapes[:1] + scrapes[-1:]:
            check(accept in EXPECTED_TYPE, f"Prometheus sent a default Accept header we test: {accept!r}")
            check(status == 200 and ctype == EXPECTED_TYPE.get(accept), f"negotiated for Prometheus: {status} {ctype}")
        with urllib.request.urlopen(base + "/api/v1/targets", timeout=10) as r:
            targets = json.load(r)["data"]["activeTargets"]
        proxied = [t for t in targets if t["labels"].get("instance") == f"127.0.0.1:{proxy.port}"]
        check(len(proxied) == 1 and proxied[0]["health"] == "up" and not proxied[0]["lastError"],
              f"Prometheus: the proxied target is up without error: {proxied}")

        check_negotiation(b, promtool, set(HOSTILE) | {"tenant-a", "tenant-c"})
    finally:
        prom.stop()
        proxy.stop()
        for d in demos:
            rc, _, err = d.stop()
            check(rc == 0, f"demo exits cleanly on SIGTERM: rc={rc} {err[-300:]}")


def run_native_part(binary, tmp, prometheus):
    """The demo's inference duration has native buckets beside its classic ones: a
    Prometheus with native histograms on negotiates protobuf, stores the native
    histogram, and its count and sum equal the demo's own `_count` and `_sum`."""
    demo = Demo(binary)
    prom = Prometheus(prometheus, tmp, "native", extra=["--enable-feature=native-histograms"], config=(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: native\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{demo.port}']\n"))
    base = prom.base
    try:
        if not check(prom.ready(), "prometheus (native histograms) started"):
            print(prom.log_tail())
            return
        send_traffic(demo, [("tenant-a", 25, None), ("tenant-b", 15, None)])
        _, _, text = demo.get("/metrics", "text/plain")
        samples = samples_by_name(parse_prometheus(text.decode() if isinstance(text, bytes) else text))
        want_count = sum(x.value for x in samples.get("llm_router_model_inference_duration_seconds_count", []))
        want_sum = sum(x.value for x in samples.get("llm_router_model_inference_duration_seconds_sum", []))
        check(want_count > 0, f"the demo counted inferences: {want_count}")
        got_count = got_sum = None
        deadline = time.time() + 30
        while time.time() < deadline:
            c = prom_query(base, "sum(histogram_count(llm_router_model_inference_duration_seconds))")
            s_ = prom_query(base, "sum(histogram_sum(llm_router_model_inference_duration_seconds))")
            if c and s_:
                got_count, got_sum = float(c[0]["value"][1]), float(s_[0]["value"][1])
                if got_count == want_count:
                    break
            time.sleep(0.5)
        check(got_count == want_count, f"histogram_count over the native series == the demo's: {got_count} vs {want_count}")
        check(got_sum is not None and abs(got_sum - want_sum) <= 1e-9 * max(1.0, want_sum),
              f"histogram_sum == the demo's _sum: {got_sum} vs {want_sum}")
        q = prom_query(base, "histogram_quantile(0.5, sum(llm_router_model_inference_duration_seconds))")
        check(len(q) == 1 and float(q[0]["value"][1]) > 0, f"histogram_quantile answers on the native series: {q}")
        # Prometheus keeps only the native part of a family that has both.
        check(prom_query(base, "llm_router_model_inference_duration_seconds_bucket") == [],
              "no classic _bucket series stored: the native part was ingested")
    finally:
        prom.stop()
        rc, _, err = demo.stop()
        check(rc == 0, f"demo exits cleanly on SIGTERM: rc={rc} {err[-300:]}")


def pipelined_chats(port, tenants, body, batch=250):
    """POSTs one chat per tenant over one keep-alive connection, `batch` requests
    per write (HTTP/1.1 pipelining); returns the status codes."""
    statuses = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        buf = b""
        for start in range(0, len(tenants), batch):
            chunk = tenants[start:start + batch]
            s.sendall(b"".join(
                b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"X-Tenant-ID: " + t.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                for t in chunk))
            done = 0
            while done < len(chunk):
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    head = buf[:end].decode("latin-1")
                    length = int(next(l.split(":", 1)[1] for l in head.split("\r\n")
                                      if l.lower().startswith("content-length:")))
                    if len(buf) >= end + 4 + length:
                        statuses.append(int(head[9:12]))
                        buf = buf[end + 4 + length:]
                        done += 1
                        continue
                data = s.recv(1 << 16)
                if not data:
                    raise RuntimeError("server closed the connection during the flood")
                buf += data
    return statuses


def run_flood_part(binary):
    demo = Demo(binary)
    try:
        total = 15000
        body = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x"}],
                           "max_tokens": 8}).encode()
        rss_before = demo.rss_mb()
        statuses = pipelined_chats(demo.port, [f"flood-{i}" for i in range(total)], body)
        check(len(statuses) == total, f"every flood request answered: {len(statuses)}")
        rss_after = demo.rss_mb()
        status, _, text = demo.get("/metrics")
        check(status == 200, "scrape after the flood")
        # The exposition is ~60 MB (10,000 tenants x every family); count label sets
        # per family line by line, and parse the request counter's family exactly.
        label_sets = {}
        for line in text.splitlines():
            if not line.startswith("llm_router_") or "tenant_id=" not in line:
                continue
            name, _, rest = line.partition("{")
            labels = rest.rsplit("}", 1)[0]
            closed_values = ('status="success",', 'status="error",') + tuple(
                f',token_type="{t}"' for t in ("input", "output", "cached_input", "reasoning_output"))
            for closed in closed_values:  # a closed value set: one label set
                labels = labels.replace(closed, "")
            labels = labels.split(',le="')[0]
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            label_sets.setdefault(name, set()).add(labels)
        for name, sets in sorted(label_sets.items()):
            check(len(sets) <= 10001, f"{name} within its bound: {len(sets)} label sets")
        family_text = "\n".join(l for l in text.splitlines() if l.startswith("llm_router_http_requests_total")
                                 or l.startswith("# HELP llm_router_http_requests_total ")
                                 or l.startswith("# TYPE llm_router_http_requests_total ")) + "\n"
        requests = [s for f in parse_prometheus(family_text) for s in f.samples]
        tenants = {s.labels["tenant_id"] for s in requests}
        check(len(tenants) == 10001, f"http_requests_total holds 10,000 tenants + overflow: {len(tenants)}")
        check("__overflow__" in tenants, "tenants past the bound share the __overflow__ series")
        check(sum(s.value for s in requests) == total,
              f"every flooded request counted: {sum(s.value for s in requests)} of {total}")
        dropped = [l for l in text.splitlines()
                   if l.startswith('llmetrics_series_dropped_total{family="llm_router_http_requests_total"}')]
        check(dropped and float(dropped[0].rsplit(" ", 1)[1]) == total - 10000, f"drops counted: {dropped}")
        check(rss_after < RSS_LIMIT_MB, f"RSS after 15,000 tenants: {rss_after:.0f} MB (limit {RSS_LIMIT_MB} MB)")
        print(f"flood: {len(tenants)} tenant series, RSS {rss_before:.0f} -> {rss_after:.0f} MB, "
              f"/metrics {len(text) / 1e6:.1f} MB")
    finally:
        rc, _, err = demo.stop()
        check(rc == 0, f"flooded demo exits cleanly: rc={rc} {err[-300:]}")


def run_push_part(binary, tmp, gateway):
    port = free_port()
    log = open(os.path.join(tmp, "pushgateway.log"), "w")
    gw = subprocess.Popen([gateway, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="], cwd=tmp,
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        if not check(wait_http(f"http://127.0.0.1:{port}/-/ready", 30, gw), "pushgateway started"):
            return
        demo = Demo(binary, "--push", f"http://127.0.0.1:{port}")
        send_traffic(demo, [("pushed-tenant", 3, None)])
        rc, _, err = demo.stop()
        check(rc == 0 and "pushed to" in err, f"demo pushes on SIGTERM: rc={rc} {err[-300:]}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        values = [s.value for f in parse_prometheus(text) for s in f.samples
                  if s.name == "llm_router_http_requests_total" and s.labels.get("tenant_id") == "pushed-tenant"
                  and s.labels.get("job") == "llmetrics-demo"]
        check(sum(values) == 3, f"pushed counts readable from the gateway: {values}")
    finally:
        stop_process(gw)
        log.close()


def run_upstreams_part(binary):
    """--upstreams 3 and more failures: the served /metrics shows attempts,
    retries and fallbacks whose sums agree with the requests (test_demo's checker)."""
    demo = Demo(binary, "--upstreams", "3", "--failure-rate", "0.3", "--seed", "5")
    try:
        for i in range(150):
            body = json.dumps({"model": "gpt-4" if i % 2 else "gpt-3.5-turbo",
                               "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 32}).encode()
            demo.chat("tenant-a" if i % 3 else "tenant-b", body)
        demo.chat("tenant-b", b'{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}')
        status, _, text = demo.get("/metrics")
        check(status == 200, f"/metrics: {status}")
        retries, fallbacks = check_gateway_families(sample_lines(text), "served /metrics", 3)
        check(retries > 0 and fallbacks > 0, f"served /metrics: {retries} retries, {fallbacks} fallbacks")
    finally:
        rc, _, err = demo.stop()
        check(rc == 0, f"demo exits cleanly on SIGTERM: rc={rc} {err[-300:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "llmetrics-demo")
    if not os.path.exists(binary):  # sanitizer configurations build no examples
        print(f"SKIPPED: {binary} not built (LLMETRICS_BUILD_EXAMPLES=OFF)")
        return 0
    tools = {name: shutil.which(name) for name in ("prometheus", "promtool", "curl")}
    tools["pushgateway"] = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    missing = [k for k, v in tools.items() if not v]
    if missing:
        print(f"missing tools: {missing} (scripts/install-deps.sh installs them)")
        return 1
    tmp = tempfile.mkdtemp(prefix="llmetrics-demo-service-")
    try:
        t0 = time.time()
        run_prometheus_part(binary, tmp, tools["prometheus"], tools["promtool"])
        run_native_part(binary, tmp, tools["prometheus"])
        run_upstreams_part(binary)
        t1 = time.time()
        run_flood_part(binary)
        t2 = time.time()
        run_push_part(binary, tmp, tools["pushgateway"])
        print(f"timings: prometheus {t1 - t0:.1f} s, flood {t2 - t1:.1f} s, push {time.time() - t2:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("demo service: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
