#!/usr/bin/python3
"""End to end: the demo's own SLO rules page through a real Alertmanager.

1. `llmetrics-demo --emit-rules --emit-dashboard --rules-scale 1/60` writes the
   rules and dashboard for the demo's registry and SLOs, with every window
   shortened 60 times (the page fires on 14.4x over 1m and 5s instead of 1h
   and 5m); `promtool check rules` accepts them, the gateway alerts
   (fallback ratio, upstream down, budget spent) and dashboard row included.
2. Twice, each time with a fresh demo, Prometheus and Alertmanager (temp dirs,
   free ports on 127.0.0.1): the demo serves chat requests with an injected
   failure rate and writes its request log; Prometheus scrapes it every second
   and evaluates the rules every second, sending alerts to Alertmanager, which
   forwards them to a webhook receiver run by this test. Traffic comes from a
   thread here, some requests carrying a W3C traceparent.
   - failure rate 0.5: the ErrorBudgetBurnFast alert of inference-availability
     (severity page) fires and reaches the receiver, with its annotations.
   - failure rate 0: no burn-rate alert reaches the receiver or is pending in
     Prometheus, although the recorded error ratios are there (and 0).
   Each time, after the demo stops, its request log has one valid JSON line per
   request sent, as many as llm_router_model_inference_total counted, and the
   requests sent with a traceparent are logged with its trace id; their trace
   id is also the exemplar of the HTTP and inference series (OpenMetrics), and
   Prometheus (exemplar storage on) returns it from /api/v1/query_exemplars.

Usage: /usr/bin/python3 test_operate_e2e.py --bin-dir <build>/bin
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import yaml

from support import BackgroundHTTPServer, Prometheus, QuietHandler, check, exit_status, failures, free_port, stop_process

ROUTE = "/v1/chat/completions"
TENANTS = ["tenant-a", "tenant-b"]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
JOB = "llm-router"
SCALE = "0.0166667"  # 1/60


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def wait_until(what, condition, timeout, procs=()):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, p in procs:
            if p.poll() is not None:
                return check(False, f"{name} exited ({p.returncode}) while waiting for {what}")
        try:
            if condition():
                return True
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            pass
        time.sleep(0.25)
    return check(False, f"timed out after {timeout}s waiting for {what}")


class Receiver(BackgroundHTTPServer):
    """Alertmanager's webhook receiver: keeps every alert it is sent."""

    def __init__(self):
        self.alerts = []
        self.lock = threading.Lock()
        outer = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.alerts.extend(json.loads(body).get("alerts", []))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)

    def burn_alerts(self):
        with self.lock:
            return [a for a in self.alerts if a["labels"].get("alertname", "").startswith("ErrorBudgetBurn")]


class Traffic(threading.Thread):
    """Chat requests to the demo, about 50 a second, until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop_event = threading.Event()
        self.sent = 0
        self.traced = 0
        self.errors = []

    def run(self):
        body = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hello"}],
                           "max_tokens": 32}).encode()
        conn = None
        i = 0
        while not self.stop_event.is_set():
            tenant = TENANTS[i % len(TENANTS)]
            headers = {"Content-Type": "application/json", "X-Tenant-ID": tenant}
            traced = i % 10 == 0
            if traced:
                headers["traceparent"] = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("POST", ROUTE, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                self.sent += 1
                self.traced += traced
            except (http.client.HTTPException, OSError) as e:
                self.errors.append(repr(e))
                if conn:
                    conn.close()
                conn = None
            i += 1
            time.sleep(0.02)
        if conn:
            conn.close()


def metric_total(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scenario(bin_dir, tmp, rules_path, failure_rate, expect_alert, quiet_seconds=None):
    """Returns the seconds from the first scrape to the alert reaching the receiver."""
    name = f"failure rate {failure_rate}"
    work = os.path.join(tmp, f"run-{failure_rate}")
    os.makedirs(work)
    receiver = Receiver()
    log_path = os.path.join(work, "requests.jsonl")
    procs = []
    traffic = None
    took = None
    try:
        demo = subprocess.Popen([os.path.join(bin_dir, "llmetrics-demo"), "--listen", "127.0.0.1:0",
                                 "--failure-rate", str(failure_rate), "--log", log_path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(("llmetrics-demo", demo))
        line = demo.stdout.readline()
        if not check("listening on http://127.0.0.1:" in line, f"{name}: demo did not start: {line!r}"):
            return None
        demo_port = int(line.strip().rsplit(":", 1)[1])

        am_port = free_port()
        am_config = {
            "route": {"receiver": "webhook", "group_by": ["alertname", "slo", "tenant_id"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "webhook",
                           "webhook_configs": [{"url": f"http://127.0.0.1:{receiver.port}/alerts",
                                                "send_resolved": False}]}],
        }
        with open(os.path.join(work, "alertmanager.yml"), "w") as f:
            yaml.safe_dump(am_config, f)
        am_log = open(os.path.join(work, "alertmanager.log"), "w")
        am = subprocess.Popen(["prometheus-alertmanager", f"--config.file={work}/alertmanager.yml",
                               f"--storage.path={work}/am", f"--web.listen-address=127.0.0.1:{am_port}",
                               "--cluster.listen-address=", "--log.level=warn"], stdout=am_log,
                              stderr=subprocess.STDOUT)
        procs.append(("alertmanager", am))

        prom_config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [rules_path],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{demo_port}"]}]}],
        }
        prom = Prometheus("prometheus", work, config=yaml.safe_dump(prom_config),
                          extra=["--enable-feature=exemplar-storage", "--log.level=warn"])
        procs.append(("prometheus", prom.proc))
        base = prom.base

        def query(q):
            return get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": q}))["data"]["result"]

        if not (wait_until("alertmanager", lambda: get_json(f"http://127.0.0.1:{am_port}/api/v2/status"), 30, procs)
                and wait_until("the first scrape", lambda: query(f'up{{job="{JOB}"}} == 1'), 30, procs)):
            return None
        traffic = Traffic(demo_port)
        traffic.start()
        start = time.time()
        ratio = 'slo:llm_router_sli_error:ratio_rate1m{slo="inference-availability"}'
        wait_until("the recorded error ratios", lambda: len(query(ratio)) == len(TENANTS), 30, procs)

        if expect_alert:
            if wait_until("the page to reach the receiver",
                          lambda: any(a["labels"]["alertname"] == "ErrorBudgetBurnFast" for a in receiver.burn_alerts()),
                          60, procs):
                took = time.time() - start
                page = next(a for a in receiver.burn_alerts() if a["labels"]["alertname"] == "ErrorBudgetBurnFast")
                labels, annotations = page["labels"], page["annotations"]
                check(page["status"] == "firing", f"{name}: the page is firing: {page}")
                check(labels.get("slo") == "inference-availability", f"{name}: the page names its SLO: {labels}")
                check(labels.get("severity") == "page", f"{name}: severity page: {labels}")
                check(labels.get("tenant_id") in TENANTS, f"{name}: the page names the tenant: {labels}")
                check("14.4x" in annotations.get("description", "") and "1m and 5s" in annotations["description"],
                      f"{name}: the description says what burned, over the scaled windows: {annotations}")
                check(annotations.get("dashboard", "").endswith("?var-tenant=" + labels.get("tenant_id", "")),
                      f"{name}: the page links the tenant's dashboard: {annotations}")
                print(f"{name}: page received {took:.1f}s after traffic started")
        else:
            time.sleep(quiet_seconds)
            values = query(ratio)
            check(values and all(float(v["value"][1]) == 0 for v in values),
                  f"{name}: recorded error ratios are 0: {values}")
            check(not receiver.burn_alerts(), f"{name}: no burn-rate alert reached the receiver: "
                                              f"{receiver.burn_alerts()}")
            pending = [a for a in get_json(f"{base}/api/v1/alerts")["data"]["alerts"]
                       if a["labels"]["alertname"].startswith("ErrorBudgetBurn")]
            check(not pending, f"{name}: no burn-rate alert pending or firing in Prometheus: {pending}")

        # Traced requests leave their trace id as exemplars, which Prometheus
        # scrapes (it asks for OpenMetrics) and stores.
        def traced_exemplars():
            q = urllib.parse.urlencode({"query": "llm_router_http_request_duration_seconds_bucket",
                                        "start": start - 60, "end": time.time() + 60})
            found = get_json(f"{base}/api/v1/query_exemplars?{q}")["data"]
            return [e for series in found for e in series["exemplars"] if e["labels"].get("trace_id") == TRACE_ID]
        wait_until(f"{name}: Prometheus to store exemplars with the trace id", traced_exemplars, 30, procs)
        c = http.client.HTTPConnection("127.0.0.1", demo_port, timeout=10)
        c.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0"})
        om_text = c.getresponse().read().decode()
        c.close()
        for family in ("llm_router_http_requests_total", "llm_router_model_inference_total",
                       "llm_router_model_inference_duration_seconds_bucket"):
            check(any(l.startswith(family + "{") and f' # {{trace_id="{TRACE_ID}"}} ' in l for l in om_text.splitlines()),
                  f"{name}: {family} carries the trace id as an exemplar")

        rules = get_json(f"{base}/api/v1/rules")["data"]["groups"]
        for g in rules:
            for r in g["rules"]:
                check(r.get("health") in ("ok", "unknown") and not r.get("lastError"),
                      f"{name}: rule {r['name']} evaluates: {r.get('health')} {r.get('lastError')}")

        # Logs and metrics agree: one line per request, as many as inferences counted.
        traffic.stop_event.set()
        traffic.join(timeout=15)
        check(not traffic.errors, f"{name}: requests failed at the HTTP level: {traffic.errors[:3]}")
        c = http.client.HTTPConnection("127.0.0.1", demo_port, timeout=10)
        c.request("GET", "/metrics")
        metrics_text = c.getresponse().read().decode()
        c.close()
        inferences = metric_total(metrics_text, "llm_router_model_inference_total")
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=20)
        with open(log_path) as f:
            lines = f.read().splitlines()
        records = []
        for l in lines:
            try:
                records.append(json.loads(l))
            except ValueError:
                check(False, f"{name}: a log line is not JSON: {l!r}")
        check(len(records) == traffic.sent == inferences,
              f"{name}: log lines {len(records)}, requests sent {traffic.sent}, inferences counted {inferences}")
        errors = sum(r["status"] == "error" for r in records)
        if failure_rate == 0:
            check(errors == 0, f"{name}: no error in the log, found {errors}")
        else:
            check(0.3 * len(records) < errors < 0.7 * len(records), f"{name}: about half the log is errors: "
                                                                    f"{errors}/{len(records)}")
        traced = [r for r in records if r["trace_id"] == TRACE_ID]
        check(len(traced) == traffic.traced, f"{name}: {len(traced)} lines carry the trace id, "
                                             f"{traffic.traced} requests sent one")
        check(all(r["tenant"] in TENANTS and r["model"] == "gpt-3.5-turbo" and r["strategy"] == "balanced"
                  for r in records), f"{name}: log lines name tenant, model and strategy")
        check(metric_total(metrics_text, "llm_router_request_log_dropped_total") == 0,
              f"{name}: the request log dropped nothing")
    finally:
        if traffic:
            traffic.stop_event.set()
        for pname, p in reversed(procs):
            stop_process(p)
            if pname == "llmetrics-demo":
                p.stdout.close()
                p.stderr.close()
        receiver.stop()
        if failures:
            for logname in ("prometheus.log", "alertmanager.log"):
                path = os.path.join(work, logname)
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {name}: {logname}\n{f.read()[-3000:]}")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    for tool in ("promtool", "prometheus", "prometheus-alertmanager"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    demo = os.path.join(args.bin_dir, "llmetrics-demo")
    with tempfile.TemporaryDirectory(prefix="llmetrics-operate-e2e-") as tmp:
        rules_path = os.path.join(tmp, "rules.yml")
        dashboard_path = os.path.join(tmp, "dashboard.json")
        r = subprocess.run([demo, "--emit-rules", rules_path, "--emit-dashboard", dashboard_path,
                            "--rules-scale", SCALE], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not check(r.returncode == 0 and r.stdout == "", f"--emit-rules/--emit-dashboard: {r.returncode} {r.stdout}"):
            return 1
        r = subprocess.run(["promtool", "check", "rules", rules_path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        check(r.returncode == 0, f"promtool check rules:\n{r.stdout}")
        with open(rules_path) as f:
            text = f.read()
        check("slo:llm_router_sli_error:ratio_rate5s" in text and "ratio_rate1m" in text,
              "the scaled rules record 5s and 1m windows")
        # The demo's registry holds the gateway families: their alerts are among
        # the rules promtool accepted, and the dashboard has their row.
        for alert in ("FallbackRateHigh", "UpstreamDown", "TenantBudgetExhausted"):
            check(f'- alert: "{alert}"' in text, f"the rules have the gateway alert {alert}")
        with open(dashboard_path) as f:
            dashboard = json.load(f)
        check(dashboard.get("schemaVersion") == 39 and any(p["title"] == "Burn rate: inference-availability"
                                                           for p in dashboard["panels"]),
              "the dashboard has the demo's SLO panels")
        check(any(p["title"] == "Gateway" for p in dashboard["panels"]) and
              any(p["title"] == "Upstream attempts by result" for p in dashboard["panels"]),
              "the dashboard has the gateway row")

        took = scenario(args.bin_dir, tmp, rules_path, 0.5, expect_alert=True)
        # Quiet long enough that the page would have reached the receiver twice over.
        quiet = max(8.0, 2 * took) if took else 15.0
        scenario(args.bin_dir, tmp, rules_path, 0, expect_alert=False, quiet_seconds=quiet)
    return exit_status("PASS")


if __name__ == "__main__":
    sys.exit(main())
