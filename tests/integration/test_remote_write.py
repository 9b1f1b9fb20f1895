"""Prometheus remote write end to end, against real Prometheus 2.42 servers the test
starts (free ports on 127.0.0.1, a temp dir) and stops:

  direct + outage  three llmetrics-demo --remote-write instances push every 0.5 s to a
                   Prometheus receiver (--web.enable-remote-write-receiver); the receiver
                   is stopped for a few intervals and restarted on the same port and data
                   dir. Per-instance and summed request counters queried back equal what
                   each instance counted; with the default queue nothing is lost (every
                   request of every snapshot is stored: count_over_time of a series equals
                   the requests sent); with a one-request queue the drop counter says
                   exactly how many samples are missing.
  4xx              a receiver answering 400: no retries, every sample counted as dropped
                   (reason rejected); the request is checked field by field (headers,
                   snappy, WriteRequest decoded with protoc's Python code: labels sorted,
                   no duplicates or empty values, external labels, one sample per series).
  agent fleet      three demo instances scraped by Prometheus in agent mode
                   (--enable-feature=agent) that remote-writes to a central Prometheus;
                   sum by (tenant_id) (llm_router_http_requests_total) there equals the
                   requests sent to all three.
  TLS              the receiver behind Prometheus' own --web.config.file TLS with a
                   certificate the test makes (openssl CLI): delivered with the CA file and
                   the right server name, refused (nothing delivered) with a wrong one.
  client cert      Prometheus requiring and verifying a client certificate
                   (client_auth_type: RequireAndVerifyClientCert; CA, server and client
                   certificates made with openssl): delivered with the certificate; without
                   it every push fails, is counted as failed, and nothing lands.
  bearer           a reverse proxy in front of Prometheus (its web config has no bearer
                   check) that answers 401 to a wrong or missing `Authorization: Bearer`:
                   the right token lands; a wrong or missing one is rejected, not retried,
                   and counted as dropped; Prometheus holds only the right instance's data.
  native pushed    protobuf_fixture --remote-write pushes two lm::native_histogram families
                   of a known log-uniform distribution (1 ms ... 10 min) to a receiver with
                   native histograms on: histogram_count and histogram_sum queried back equal
                   what was observed, exactly, and histogram_quantile(0.5, 0.9, 0.99) lies
                   within the schema's relative error of the exact quantile.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from support import BackgroundHTTPServer, Prometheus, QuietHandler, check, exit_status

sys.dont_write_bytecode = True

INTERVAL = "0.5"
CHAT = json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}).encode()

# prometheus/prompb types.proto and remote.proto, the fields the test reads (written from the spec).
WRITE_PROTO = """
syntax = "proto3";
package rwtest;
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  uint64 count_int = 1; double sum = 3; sint32 schema = 4; double zero_threshold = 5; uint64 zero_count_int = 6;
  repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9;
  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; int64 timestamp = 15;
}
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3;
                     repeated Histogram histograms = 4; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
"""


def snappy_uncompress(data):
    lib = ctypes.CDLL("libsnappy.so.1")
    n = ctypes.c_size_t()
    if lib.snappy_uncompressed_length(data, ctypes.c_size_t(len(data)), ctypes.byref(n)) != 0:
        raise ValueError("not snappy")
    out = ctypes.create_string_buffer(n.value)
    if lib.snappy_uncompress(data, ctypes.c_size_t(len(data)), out, ctypes.byref(n)) != 0:
        raise ValueError("bad snappy")
    return out.raw[:n.value]


class Demo:
    """One llmetrics-demo --listen process, pushing with remote write when asked."""

    def __init__(self, binary, *extra):
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://127.0.0.1:" not in line:
            raise RuntimeError(f"llmetrics-demo did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.pushes = "--remote-write" in extra
        self.instance = f"127.0.0.1:{self.port}"
        self.sent = {}
        self.summary = None
        self.stderr = ""

    def chat(self, tenant, n):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(n):
            c.request("POST", "/v1/chat/completions", body=CHAT, headers={"X-Tenant-ID": tenant})
            r = c.getresponse()
            r.read()
        c.close()
        self.sent[tenant] = self.sent.get(tenant, 0) + n

    def counted(self):
        """llm_router_http_requests_total by tenant, from the instance's own /metrics."""
        with urllib.request.urlopen(f"http://{self.instance}/metrics", timeout=10) as r:
            text = r.read().decode()
        out = {}
        for m in re.finditer(r'^llm_router_http_requests_total\{([^}]*)\} (\S+)$', text, re.M):
            tenant = re.search(r'tenant_id="([^"]*)"', m.group(1)).group(1)
            out[tenant] = out.get(tenant, 0) + float(m.group(2))
        return out

    def stop(self):
        """SIGTERM (the demo flushes), then the remote-write summary line as a dict."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, self.stderr = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.stderr = self.proc.communicate()
        m = re.search(r"remote write: (\d+) requests, (\d+) samples sent, (\d+) failed, (\d+) retried, "
                      r"(\d+) dropped, (\d+) snapshots", self.stderr)
        self.summary = dict(zip(("requests", "sent", "failed", "retried", "dropped", "snapshots"),
                                map(int, m.groups()))) if m else None
        check(self.proc.returncode == 0, f"demo {self.instance} exited {self.proc.returncode}: {self.stderr[-800:]}")
        check(self.summary is not None or not self.pushes, f"demo {self.instance} printed its remote-write summary: {self.stderr[-800:]}")
        return self.summary or {}


def stored_points(prom, selector):
    """How many samples Prometheus holds for `selector` over the last 10 minutes (all series)."""
    # Float samples only: native histograms (the demo's inference duration) come
    # back under "histograms" and are counted apart from "samples sent".
    return sum(len(r.get("values", [])) for r in prom.query(selector + "[10m]"))


def by_labels(result, *names):
    return {tuple(r["metric"].get(n, "") for n in names): float(r["value"][1]) for r in result}


def poll(fn, deadline_s=15):
    """fn() -> (ok, value); retried until ok or the deadline; returns the last value."""
    deadline = time.time() + deadline_s
    while True:
        ok, value = fn()
        if ok or time.time() > deadline:
            return value
        time.sleep(0.25)


def run_direct_and_outage(binary, prometheus, tmp):
    prom = Prometheus(prometheus, tmp, "receiver",
                      extra=["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"])
    demos = []
    try:
        if not check(prom.ready(), "receiver started"):
            return
        url = prom.base + "/api/v1/write"
        rw = ["--remote-write", url, "--remote-write-interval", INTERVAL]
        demos = [Demo(binary, *rw), Demo(binary, *rw), Demo(binary, *rw, "--remote-write-queue", "1")]
        d1, d2, tiny = demos
        d1.chat("tenant-a", 7)
        d1.chat("tenant-b", 3)
        d2.chat("tenant-a", 4)
        d2.chat("tenant-c", 5)
        tiny.chat("tenant-t", 2)
        time.sleep(1.5)
        # Outage: six intervals without a receiver, traffic going on.
        prom.stop()
        d1.chat("tenant-a", 2)
        d2.chat("tenant-c", 6)
        time.sleep(3)
        prom.start()
        check(prom.ready(), "receiver restarted on the same port")
        time.sleep(1.5)
        counted = {d.instance: d.counted() for d in demos}
        summaries = {d.instance: d.stop() for d in demos}

        for d in demos:
            check(counted[d.instance] == d.sent, f"{d.instance} counted {counted[d.instance]}, sent {d.sent}")

        def per_instance():
            got = by_labels(prom.query('sum by (instance, tenant_id) (llm_router_http_requests_total'
                                       '{job="llmetrics-demo"})'), "instance", "tenant_id")
            want = {(d.instance, t): float(n) for d in demos for t, n in d.sent.items()}
            return got == want, (got, want)
        got, want = poll(per_instance)
        check(got == want, f"per-instance requests in Prometheus {got} == counted {want}")
        totals = by_labels(prom.query('sum by (tenant_id) (llm_router_http_requests_total)'), "tenant_id")
        want_totals = {}
        for d in demos:
            for t, n in d.sent.items():
                want_totals[(t,)] = want_totals.get((t,), 0) + n
        check(totals == want_totals, f"summed requests {totals} == {want_totals}")

        for d in (d1, d2):
            s = summaries[d.instance]
            check(s.get("dropped") == 0 and s.get("failed", 0) > 0 and s.get("retried", 0) > 0,
                  f"{d.instance}: the outage was retried and nothing dropped: {s}")
            n = stored_points(prom, f'llmetrics_remote_write_queue_requests{{instance="{d.instance}"}}')
            check(n == s.get("requests") == s.get("snapshots"),
                  f"{d.instance}: every snapshot stored once ({n} points, {s})")
            total = stored_points(prom, f'{{instance="{d.instance}"}}')
            check(total == s.get("sent"),
                  f"{d.instance}: samples stored {total} == samples sent {s.get('sent')}")
        s = summaries[tiny.instance]
        per_request = s.get("sent", 0) / max(s.get("requests", 1), 1)
        lost_requests = s.get("snapshots", 0) - s.get("requests", 0)
        check(lost_requests > 0 and s.get("dropped") == lost_requests * per_request,
              f"one-request queue: dropped {s.get('dropped')} == {lost_requests} requests x {per_request} ({s})")
        total = stored_points(prom, f'{{instance="{tiny.instance}"}}')
        check(total == s.get("sent"),
              f"one-request queue: samples stored {total} == sent {s.get('sent')}")
        print(f"direct + outage: {summaries}")
    finally:
        for d in demos:
            if d.proc.poll() is None:
                d.stop()
        prom.stop()


class RejectingReceiver(BackgroundHTTPServer):
    """Answers every POST with 400 and keeps (headers, body) of each."""

    def __init__(self):
        requests = self.requests = []

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                requests.append((dict(self.headers), body))
                msg = b"out of bounds: sample too old"
                self.send_response(400)
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)

        super().__init__(Handler)


def load_write_proto(tmp):
    with open(os.path.join(tmp, "rwtest.proto"), "w") as f:
        f.write(WRITE_PROTO)
    subprocess.run(["protoc", f"-I{tmp}", f"--python_out={tmp}", os.path.join(tmp, "rwtest.proto")], check=True)
    sys.path.insert(0, tmp)
    import rwtest_pb2
    return rwtest_pb2


def run_rejected(binary, tmp):
    pb = load_write_proto(tmp)
    receiver = RejectingReceiver()
    try:
        d = Demo(binary, "--remote-write", f"http://127.0.0.1:{receiver.port}/api/v1/write",
                 "--remote-write-interval", "0.3")
        d.chat("tenant-r", 3)
        time.sleep(1.2)
        s = d.stop()
        reqs = receiver.requests
        check(len(reqs) == s.get("snapshots"), f"400: one request per snapshot, none retried ({len(reqs)}, {s})")
        check(s.get("retried") == 0 and s.get("requests") == 0 and s.get("sent") == 0, f"400: nothing retried {s}")
        check(s.get("dropped") == s.get("failed") and s.get("dropped", 0) > 0, f"400: every sample dropped {s}")
        check("HTTP 400" in d.stderr and "out of bounds: sample too old" in d.stderr,
              f"400: the receiver's message is logged: {d.stderr[-400:]}")
        samples = 0
        for headers, body in reqs:
            h = {k.lower(): v for k, v in headers.items()}
            check(h.get("content-encoding") == "snappy" and h.get("content-type") == "application/x-protobuf"
                  and h.get("x-prometheus-remote-write-version") == "0.1.0"
                  and h.get("user-agent", "").startswith("llmetrics/"), f"remote-write headers: {h}")
            wr = pb.WriteRequest()
            wr.ParseFromString(snappy_uncompress(body))
            stamps = set()
            for ts in wr.timeseries:
                names = [l.name for l in ts.labels]
                if not check(names == sorted(names) and len(set(names)) == len(names) and names[0] == "__name__"
                             and all(l.value for l in ts.labels), f"labels sorted, unique, non-empty: {ts.labels}"):
                    break
                labels = {l.name: l.value for l in ts.labels}
                check(labels.get("job") == "llmetrics-demo" and labels.get("instance") == d.instance,
                      f"external labels on {labels}")
                histograms = list(getattr(ts, "histograms", []))
                check(len(ts.samples) + len(histograms) == 1, f"one sample or native histogram per series: {labels}")
                stamps.update(x.timestamp for x in ts.samples)
                stamps.update(h.timestamp for h in histograms)
                samples += len(ts.samples)
            check(len(stamps) == 1, f"one timestamp per request: {stamps}")
            names = {l.value for ts in wr.timeseries for l in ts.labels if l.name == "__name__"}
            check("llm_router_http_requests_total" in names and "llm_router_http_request_duration_seconds_bucket"
                  in names and "llm_router_http_request_duration_seconds_count" in names,
                  f"counter and histogram series: {sorted(names)[:20]}")
            check(any(m.metric_family_name == "llm_router_http_requests_total" and m.type == 1 for m in wr.metadata),
                  "metadata: the counter family")
        check(samples == s.get("dropped"), f"400: samples received {samples} == dropped {s.get('dropped')}")
        print(f"4xx: {len(reqs)} requests, {s}")
    finally:
        receiver.stop()


def run_agent_fleet(binary, prometheus, tmp):
    central = Prometheus(prometheus, tmp, "central", extra=["--web.enable-remote-write-receiver"])
    demos = [Demo(binary), Demo(binary), Demo(binary)]
    targets = ", ".join(f"'{d.instance}'" for d in demos)
    config = (f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n"
              f"      - targets: [{targets}]\nremote_write:\n  - url: {central.base}/api/v1/write\n"
              f"    queue_config:\n      batch_send_deadline: 1s\n")
    agent = Prometheus(prometheus, tmp, "agent", config=config, extra=["--enable-feature=agent"])
    try:
        if not check(central.ready() and agent.ready(), "central and agent started"):
            return
        for i, d in enumerate(demos):
            d.chat("tenant-a", 3 + i)
            d.chat("tenant-b", 2 * i + 1)
        want = {}
        for d in demos:
            for t, n in d.sent.items():
                want[(t,)] = want.get((t,), 0) + n

        def fleet():
            got = by_labels(central.query('sum by (tenant_id) (llm_router_http_requests_total)'), "tenant_id")
            return got == want, got
        got = poll(fleet, 20)
        check(got == want, f"agent fleet: central sum by tenant {got} == sent {want}")
        up = poll(lambda: (lambda u: (len(u) == 3, u))(by_labels(central.query('up{job="fleet"} == 1'), "instance")))
        check(len(up) == 3 and all(v == 1 for v in up.values()), f"agent scraped all three: {up}")
        print(f"agent fleet: {got}")
    finally:
        for d in demos:
            d.stop()
        agent.stop()
        central.stop()


def run_tls(binary, prometheus, tmp):
    key, cert = os.path.join(tmp, "server.key"), os.path.join(tmp, "server.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=prometheus.test", "-addext", "subjectAltName=DNS:prometheus.test"],
                   check=True, capture_output=True)
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    # The demo sends its native inference-duration histogram: a receiver without
    # native histograms answers 5xx to every request that carries one.
    prom = Prometheus(prometheus, tmp, "tls", extra=["--web.enable-remote-write-receiver", f"--web.config.file={web}",
                                                     "--enable-feature=native-histograms"])
    try:
        # Ready once it answers TLS (urllib without verification, for the wait only).
        import ssl
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{prom.port}/-/ready", timeout=1, context=ctx):
                    break
            except OSError:
                time.sleep(0.1)
        url = f"https://127.0.0.1:{prom.port}/api/v1/write"
        good = Demo(binary, "--remote-write", url, "--remote-write-interval", INTERVAL, "--remote-write-ca", cert,
                    "--remote-write-server-name", "prometheus.test")
        wrong = Demo(binary, "--remote-write", url, "--remote-write-interval", INTERVAL, "--remote-write-ca", cert)
        good.chat("tenant-tls", 4)
        wrong.chat("tenant-tls", 1)
        time.sleep(1)
        g, w = good.stop(), wrong.stop()
        check(g.get("requests", 0) > 0 and g.get("dropped") == 0, f"TLS with CA and server name delivered: {g}")
        check(w.get("requests") == 0 and w.get("sent") == 0 and w.get("failed", 0) > 0,
              f"TLS with the wrong server name delivered nothing: {w}")
        prom.base = f"https://127.0.0.1:{prom.port}"

        def delivered():
            req = urllib.request.Request(prom.base + "/api/v1/query?" + urllib.parse.urlencode(
                {"query": 'sum by (instance) (llm_router_http_requests_total{tenant_id="tenant-tls"})'}))
            with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                got = by_labels(json.load(r)["data"]["result"], "instance")
            return got == {(good.instance,): 4.0}, got
        got = poll(delivered, 10)
        check(got == {(good.instance,): 4.0}, f"TLS: Prometheus holds the good instance's 4 requests only: {got}")
        print(f"tls: good {g}, wrong name {w}")
    finally:
        prom.stop()


def make_certificates(tmp):
    """A CA, a server certificate for prometheus.test and a client certificate, all signed by the CA."""
    paths = {n: os.path.join(tmp, f"mtls-{n}") for n in ("ca.key", "ca.crt", "server.key", "server.crt",
                                                          "client.key", "client.crt")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", *ec, "-keyout", paths["ca.key"], "-out", paths["ca.crt"], "-days", "1",
        "-subj", "/CN=llmetrics test CA")
    for who, ext in (("server", "subjectAltName=DNS:prometheus.test\nextendedKeyUsage=serverAuth\n"),
                     ("client", "extendedKeyUsage=clientAuth\n")):
        csr, extfile = os.path.join(tmp, f"mtls-{who}.csr"), os.path.join(tmp, f"mtls-{who}.ext")
        with open(extfile, "w") as f:
            f.write(ext)
        run("req", *ec, "-keyout", paths[f"{who}.key"], "-out", csr, "-subj", f"/CN=llmetrics test {who}")
        run("x509", "-req", "-in", csr, "-CA", paths["ca.crt"], "-CAkey", paths["ca.key"], "-CAcreateserial",
            "-out", paths[f"{who}.crt"], "-days", "1", "-extfile", extfile)
    return paths


def run_client_cert(binary, prometheus, tmp):
    import ssl
    c = make_certificates(tmp)
    web = os.path.join(tmp, "mtls-web.yml")
    with open(web, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {c['server.crt']}\n  key_file: {c['server.key']}\n"
                f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {c['ca.crt']}\n")
    prom = Prometheus(prometheus, tmp, "mtls", extra=["--web.enable-remote-write-receiver", f"--web.config.file={web}",
                                                      "--enable-feature=native-histograms"])
    demos = []
    try:
        ctx = ssl.create_default_context(cafile=c["ca.crt"])
        ctx.check_hostname = False
        ctx.load_cert_chain(c["client.crt"], c["client.key"])
        base = f"https://127.0.0.1:{prom.port}"
        deadline, ready = time.time() + 60, False
        while not ready and time.time() < deadline:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=1, context=ctx):
                    ready = True
            except OSError:
                time.sleep(0.1)
        if not check(ready, "Prometheus with client-certificate TLS started"):
            return
        bare = ssl.create_default_context(cafile=c["ca.crt"])
        bare.check_hostname = False
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=5, context=bare):
                refused = False
        except OSError:
            refused = True
        check(refused, "the server refuses a client without a certificate (the check the push relies on)")
        tls = ["--remote-write", base + "/api/v1/write", "--remote-write-interval", INTERVAL,
               "--remote-write-ca", c["ca.crt"], "--remote-write-server-name", "prometheus.test"]
        good = Demo(binary, *tls, "--remote-write-cert", c["client.crt"], "--remote-write-key", c["client.key"])
        demos.append(good)
        bare_demo = Demo(binary, *tls)
        demos.append(bare_demo)
        good.chat("tenant-mtls", 5)
        bare_demo.chat("tenant-mtls", 2)
        time.sleep(1.5)
        g, b = good.stop(), bare_demo.stop()
        check(g.get("requests", 0) > 0 and g.get("dropped") == 0 and g.get("failed") == 0,
              f"with the client certificate every push landed: {g}")
        check(b.get("requests") == 0 and b.get("sent") == 0 and b.get("failed", 0) > 0 and b.get("retried", 0) > 0,
              f"without it every push failed, counted as failed (and retried: a TLS failure has no status): {b}")

        def delivered():
            url = base + "/api/v1/query?" + urllib.parse.urlencode(
                {"query": 'sum by (instance) (llm_router_http_requests_total{tenant_id="tenant-mtls"})'})
            with urllib.request.urlopen(url, timeout=10, context=ctx) as r:
                got = by_labels(json.load(r)["data"]["result"], "instance")
            return got == {(good.instance,): 5.0}, got
        got = poll(delivered, 10)
        check(got == {(good.instance,): 5.0}, f"client cert: Prometheus holds the certified instance's 5 only: {got}")
        print(f"client cert: with {g}, without {b}")
    finally:
        for d in demos:
            if d.proc.poll() is None:
                d.stop()
        prom.stop()


class BearerProxy(BackgroundHTTPServer):
    """Forwards POSTs carrying `Authorization: Bearer <token>` to `upstream`; answers 401 to the rest.
    Keeps (authorization header, status answered) of each request."""

    FORWARDED = ("Content-Type", "Content-Encoding", "X-Prometheus-Remote-Write-Version", "User-Agent")

    def __init__(self, upstream, token):
        seen = self.seen = []

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                auth = self.headers.get("Authorization")
                if auth != f"Bearer {token}":
                    status, answer = 401, b"missing or wrong bearer token"
                else:
                    headers = {h: self.headers[h] for h in BearerProxy.FORWARDED if self.headers.get(h)}
                    req = urllib.request.Request(upstream + self.path, data=body, method="POST", headers=headers)
                    try:
                        with urllib.request.urlopen(req, timeout=10) as r:
                            status, answer = r.status, r.read()
                    except urllib.error.HTTPError as e:
                        status, answer = e.code, e.read()
                seen.append((auth, status))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        super().__init__(Handler)


def run_bearer(binary, prometheus, tmp):
    prom = Prometheus(prometheus, tmp, "bearer",
                      extra=["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"])
    proxy = BearerProxy(prom.base, "s3cret-token")
    demos = []
    try:
        if not check(prom.ready(), "receiver behind the bearer proxy started"):
            return
        files = {}
        for name, token in (("right", "s3cret-token"), ("wrong", "not-the-token")):
            files[name] = os.path.join(tmp, f"bearer-{name}.txt")
            with open(files[name], "w") as f:
                f.write(token + "\n")
        rw = ["--remote-write", f"http://127.0.0.1:{proxy.port}/api/v1/write", "--remote-write-interval", INTERVAL]
        right = Demo(binary, *rw, "--remote-write-bearer-file", files["right"])
        demos.append(right)
        wrong = Demo(binary, *rw, "--remote-write-bearer-file", files["wrong"])
        demos.append(wrong)
        missing = Demo(binary, *rw)
        demos.append(missing)
        right.chat("tenant-bearer", 6)
        wrong.chat("tenant-bearer", 2)
        missing.chat("tenant-bearer", 1)
        time.sleep(1.5)
        r, w, m = right.stop(), wrong.stop(), missing.stop()
        check(r.get("requests", 0) > 0 and r.get("dropped") == 0 and r.get("failed") == 0,
              f"the right token: every push landed: {r}")
        for name, d, s in (("wrong", wrong, w), ("missing", missing, m)):
            check(s.get("requests") == 0 and s.get("sent") == 0 and s.get("retried") == 0
                  and s.get("dropped") == s.get("failed") and s.get("dropped", 0) > 0,
                  f"a {name} token: rejected with 401, not retried, every sample dropped: {s}")
            check("HTTP 401" in d.stderr and "missing or wrong bearer token" in d.stderr,
                  f"a {name} token: the 401 and the proxy's message are logged: {d.stderr[-300:]}")
        statuses = {}
        for auth, status in proxy.seen:
            statuses.setdefault(auth, set()).add(status)
        check(statuses.get("Bearer s3cret-token") == {204} and statuses.get("Bearer not-the-token") == {401}
              and statuses.get(None) == {401}, f"the proxy saw each token and answered: {statuses}")

        def landed():
            got = by_labels(prom.query('sum by (instance) (llm_router_http_requests_total{tenant_id="tenant-bearer"})'),
                            "instance")
            return got == {(right.instance,): 6.0}, got
        got = poll(landed, 10)
        check(got == {(right.instance,): 6.0}, f"bearer: Prometheus holds the right token's 6 requests only: {got}")
        print(f"bearer: right {r}, wrong {w}, missing {m}")
    finally:
        for d in demos:
            if d.proc.poll() is None:
                d.stop()
        proxy.stop()
        prom.stop()


def run_native_pushed(bin_dir, prometheus, tmp):
    prom = Prometheus(prometheus, tmp, "native",
                      extra=["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"])
    try:
        if not check(prom.ready(), "receiver with native histograms started"):
            return
        out = subprocess.run([os.path.join(bin_dir, "protobuf_fixture"), "--remote-write", prom.base + "/api/v1/write"],
                             capture_output=True, text=True, timeout=60)
        if not check(out.returncode == 0, f"protobuf_fixture --remote-write: {out.returncode} {out.stderr[-500:]}"):
            return
        facts = json.loads(out.stdout.strip().splitlines()[-1])
        check(facts["histograms_sent"] == 2 and facts["requests_sent"] == 1, f"one request, two native histograms: {facts}")

        def scalar(q):
            result = prom.query(q)
            return float(result[0]["value"][1]) if len(result) == 1 else None
        total = float.fromhex(facts["sum"])
        for family in ("fx_observed_seconds", "fx_observed_limited_seconds"):
            selector = f'{family}{{job="native_push"}}'
            count = poll(lambda: (lambda v: (v is not None, v))(scalar(f"histogram_count({selector})")), 10)
            check(count == facts["count"], f"histogram_count({family}) = {count}, observed {facts['count']}")
            got = scalar(f"histogram_sum({selector})")
            check(got == total, f"histogram_sum({family}) = {got!r}, observed {total!r}")
            check(prom.query(f"{family}_count") == [], f"{family} stored as native: no classic _count series")
        factor = 2 ** (2 ** -facts["fine_schema"])  # one bucket's upper / lower bound at schema 3
        for q, exact in sorted(facts["quantiles"].items()):
            got = scalar(f'histogram_quantile({q}, fx_observed_seconds{{job="native_push"}})')
            check(got is not None and exact / factor <= got <= exact * factor,
                  f"pushed native q={q}: {got} not within x{factor:.4f} of exact {exact}")
            print(f"native pushed q={q}: {got:.6g} exact {exact:.6g} (bound x{factor:.4f})")
    finally:
        prom.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "llmetrics-demo")
    if not os.path.exists(binary):  # sanitizer configurations build no apps
        print(f"SKIPPED: {binary} not built (LLMETRICS_BUILD_EXAMPLES=OFF)")
        return 0
    prometheus = shutil.which("prometheus")
    if not prometheus or not shutil.which("openssl") or not shutil.which("protoc"):
        print("missing prometheus, openssl or protoc (scripts/install-deps.sh installs them)")
        return 1
    tmp = tempfile.mkdtemp(prefix="llmetrics-remote-write-")
    try:
        parts = [("direct + outage", lambda: run_direct_and_outage(binary, prometheus, tmp)),
                 ("4xx", lambda: run_rejected(binary, tmp)),
                 ("agent fleet", lambda: run_agent_fleet(binary, prometheus, tmp)),
                 ("tls", lambda: run_tls(binary, prometheus, tmp)),
                 ("client cert", lambda: run_client_cert(binary, prometheus, tmp)),
                 ("bearer", lambda: run_bearer(binary, prometheus, tmp)),
                 ("native pushed", lambda: run_native_pushed(args.bin_dir, prometheus, tmp))]
        timings = []
        for name, fn in parts:
            t0 = time.time()
            fn()
            timings.append(f"{name} {time.time() - t0:.1f} s")
        print("timings: " + ", ".join(timings))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("remote write: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
