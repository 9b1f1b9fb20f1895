#!/usr/bin/python3
"""Generated rules and dashboard, checked by the real Prometheus tools.

programs/operate_fixture writes the Prometheus rules and the Grafana dashboard
for the catalog registry and two SLOs (inference-availability per tenant at
99.9%, inference-latency globally at 99% under 10 s). This test

1. runs `promtool check rules` on the rules;
2. runs `promtool test rules` with a unit-test file written here: three tenants
   (no errors, 0.05% errors = burn rate 0.5, and 10/110 errors for one hour
   after two healthy hours) and a target that goes down; the page and ticket
   burn-rate alerts must fire and stay silent at the times the SRE workbook's
   windows say, with the labels and annotations the rules declare;
3. starts a real `prometheus` (temp dir, free port on 127.0.0.1, 1 s scrape and
   rule evaluation, the generated rules loaded) scraping a small HTTP server run
   here that serves the fixture's exposition with traffic growing per scrape;
   after a few scrapes every rule must evaluate without error, and every panel
   query of the dashboard must succeed through /api/v1/query and, since the
   fixture fills every family it reads (and the rules record the SLO series),
   return data.

Usage: /usr/bin/python3 test_operate_rules.py --bin-dir <build>/bin
"""

import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import yaml

from support import Prometheus, check, exit_status

DASHBOARD_URL = "https://grafana.example/d/llm-router"
JOB = "llm-router"


def fixture(bin_dir, *args):
    r = subprocess.run([os.path.join(bin_dir, "operate_fixture"), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=False)
    if r.returncode != 0:
        sys.exit(f"operate_fixture {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


# --- 1. promtool check rules ------------------------------------------------------

def check_rules(rules_path):
    r = subprocess.run(["promtool", "check", "rules", rules_path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=False)
    check(r.returncode == 0 and "SUCCESS" in r.stdout, f"promtool check rules:\n{r.stdout}")


# --- 2. promtool test rules -------------------------------------------------------

def expand(template, labels):
    """The {{ $labels.x }} references of an annotation, filled in (the only
    template the generated burn-rate and TargetDown annotations use)."""
    def one(m):
        return labels.get(m.group(1), "")
    out = re.sub(r"\{\{ \$labels\.(\w+) \}\}", one, template)
    check("{{" not in out, f"annotation with a template this test cannot expand: {template!r}")
    return out


def expected_alert(rules, alertname, slo, series_labels):
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") != alertname:
                continue
            if slo is not None and rule.get("labels", {}).get("slo") != slo:
                continue
            labels = dict(series_labels)
            labels.update(rule.get("labels", {}))
            annotations = {k: expand(v, labels) for k, v in rule.get("annotations", {}).items()}
            return {"exp_labels": labels, "exp_annotations": annotations}
    sys.exit(f"no alert {alertname} for slo {slo} in the rules")


def unit_test_rules(tmp, rules_path):
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    inference = "llm_router_model_inference_total"
    def series(status, tenant):
        return (f'{inference}{{model_id="gpt-4",strategy="balanced",status="{status}",'
                f'tenant_id="{tenant}"}}')
    latency = "llm_router_model_inference_duration_seconds"
    # Minutes. Counters never start at 0 here: in series notation "0x..." would
    # read as a hexadecimal number.
    input_series = [
        # tenant-good: no errors at all.
        {"series": series("success", "tenant-good"), "values": "100+100x300"},
        {"series": series("error", "tenant-good"), "values": "5+0x300"},
        # tenant-slow: 1 error in 2001, burn rate 0.5: never alerts.
        {"series": series("success", "tenant-slow"), "values": "100+2000x300"},
        {"series": series("error", "tenant-slow"), "values": "5+1x300"},
        # tenant-bad: healthy for 2 h, then 10 errors a minute against 100
        # successes (burn rate 91) from minute 120 to 180, then healthy again.
        {"series": series("success", "tenant-bad"), "values": "100+100x300"},
        {"series": series("error", "tenant-bad"), "values": "5+0x120 15+10x59 605+0x100"},
        # Latency: every inference under 10 s, so inference-latency never alerts.
        {"series": f'{latency}_bucket{{model_id="gpt-4",strategy="balanced",tenant_id="tenant-good",le="10.0"}}',
         "values": "100+100x300"},
        {"series": f'{latency}_count{{model_id="gpt-4",strategy="balanced",tenant_id="tenant-good"}}',
         "values": "100+100x300"},
        # The target goes down at minute 3.
        {"series": f'up{{job="{JOB}",instance="router:9464"}}', "values": "1 1 1 0 0 0 0 0 0 0"},
    ]
    bad = {"tenant_id": "tenant-bad"}
    page = expected_alert(rules, "ErrorBudgetBurnFast", "inference-availability", bad)
    ticket = expected_alert(rules, "ErrorBudgetBurnSlow", "inference-availability", bad)
    down = expected_alert(rules, "TargetDown", None, {"job": JOB, "instance": "router:9464"})
    check(page["exp_labels"]["severity"] == "page", "the fast burn alert pages")
    check(ticket["exp_labels"]["severity"] == "ticket", "the slow burn alert opens a ticket")
    check(page["exp_annotations"].get("dashboard") == DASHBOARD_URL + "?var-tenant=tenant-bad",
          f"the page links the tenant's dashboard: {page['exp_annotations']}")
    check("14.4x" in page["exp_annotations"]["description"], "the page says how fast the budget burned")

    def at(minutes, alertname, alerts):
        return {"eval_time": f"{minutes}m", "alertname": alertname, "exp_alerts": alerts}

    tests = [{
        "interval": "1m",
        "input_series": input_series,
        "alert_rule_test": [
            # 1 min into the errors: only the 5m window is hot; nothing fires.
            at(121, "ErrorBudgetBurnFast", []),
            at(121, "ErrorBudgetBurnSlow", []),
            # 30 min in: 1h ratio ~4.8% > 14.4 x 0.1%, 5m ratio ~9%: page;
            # 1d ratio ~2% > 3 x 0.1%, 2h ratio ~2.4%: ticket. Only for
            # tenant-bad: the other tenants and the latency SLO stay silent.
            at(150, "ErrorBudgetBurnFast", [page]),
            at(150, "ErrorBudgetBurnSlow", [ticket]),
            # 35 min after the errors stopped: the 5m and 30m windows are clean, so
            # the page resolves; the 2h and 6h windows still hold the errors: ticket.
            at(215, "ErrorBudgetBurnFast", []),
            at(215, "ErrorBudgetBurnSlow", [ticket]),
            # TargetDown: down at 3m, `for: 1m`, so pending at 3m and firing at 5m.
            at(3, "TargetDown", []),
            at(5, "TargetDown", [down]),
        ],
    }]
    # Recording rules too: at 150m the recorded 5m error ratio of tenant-bad is
    # about 10/110 and tenant-good's is exactly 0.
    tests[0]["promql_expr_test"] = [
        {"expr": 'slo:llm_router_sli_error:ratio_rate5m{slo="inference-availability",tenant_id="tenant-good"}',
         "eval_time": "150m",
         "exp_samples": [{"labels": 'slo:llm_router_sli_error:ratio_rate5m{slo="inference-availability",'
                                    'tenant_id="tenant-good"}', "value": 0}]},
        {"expr": 'round(slo:llm_router_sli_error:ratio_rate5m{slo="inference-availability",'
                 'tenant_id="tenant-bad"} * 110)',
         "eval_time": "150m",
         "exp_samples": [{"labels": '{slo="inference-availability",tenant_id="tenant-bad"}', "value": 10}]},
        {"expr": 'slo:llm_router_sli_error:ratio_rate1h{slo="inference-latency"}',
         "eval_time": "150m",
         "exp_samples": [{"labels": 'slo:llm_router_sli_error:ratio_rate1h{slo="inference-latency"}', "value": 0}]},
    ]
    test_path = os.path.join(tmp, "rules_test.yml")
    with open(test_path, "w") as f:
        yaml.safe_dump({"rule_files": [os.path.basename(rules_path)], "evaluation_interval": "1m", "tests": tests}, f,
                       sort_keys=False, width=1000)
    r = subprocess.run(["promtool", "test", "rules", os.path.basename(test_path)], cwd=tmp, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=False)
    check(r.returncode == 0, f"promtool test rules:\n{r.stdout}")


# --- 3. a real Prometheus ---------------------------------------------------------

class Exposition:
    """Serves the fixture's exposition, one more round of traffic per scrape."""

    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.scrapes = 0
        self.last = ""
        self.lock = threading.Lock()

    def handler(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                with outer.lock:
                    outer.scrapes += 1
                    body = fixture(outer.bin_dir, "metrics", str(10 * outer.scrapes)).encode()
                    outer.last = body.decode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


def api(port, path, **params):
    url = f"http://127.0.0.1:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400/422 carry a JSON error body
        return json.load(e)


def families_with_data(text):
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def has_family(names, family):
    return any(n == family or n in (family + "_bucket", family + "_count", family + "_sum") for n in names)


def dashboard_against_prometheus(bin_dir, tmp, rules_path):
    dashboard = json.loads(fixture(bin_dir, "dashboard"))
    queries = json.loads(fixture(bin_dir, "queries"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    check(exprs == [q["expr"] for q in queries], "dashboard_queries() lists the dashboard's targets, in order")
    check(dashboard["schemaVersion"] >= 36, "a schema current Grafana imports")

    exposition = Exposition(bin_dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), exposition.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target_port = server.server_address[1]

    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [rules_path],
        "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}],
    }
    prom = Prometheus("prometheus", tmp, config=yaml.safe_dump(config), extra=["--log.level=warn"])
    prom_port = prom.port
    try:
        deadline = time.time() + 60
        def wait(what, condition):
            while time.time() < deadline:
                if prom.proc.poll() is not None:
                    break
                try:
                    if condition():
                        return True
                except (OSError, ValueError):
                    pass
                time.sleep(0.25)
            print(prom.log_tail(4000))
            return check(False, f"timed out waiting for {what}")

        if not wait("three scrapes", lambda: exposition.scrapes >= 3 and
                    api(prom_port, "/api/v1/query", query=f'up{{job="{JOB}"}}')["data"]["result"]):
            return
        recorded = 'slo:llm_router_sli_error:ratio_rate1h{slo="inference-latency"}'
        wait("the recording rules", lambda: api(prom_port, "/api/v1/query", query=recorded)["data"]["result"])
        wait("a rate over the scraped samples", lambda: api(
            prom_port, "/api/v1/query", query="sum(rate(llm_router_http_requests_total[1m])) > 0")["data"]["result"])

        rules = api(prom_port, "/api/v1/rules")["data"]["groups"]
        check(sorted(g["name"] for g in rules) ==
              ["llm_router-alerts", "llm_router-slo-alerts", "llm_router-slo-recording"], "three rule groups loaded")
        for g in rules:
            for r in g["rules"]:
                check(r.get("health") in ("ok", "unknown") and not r.get("lastError"),
                      f"rule {r.get('name')} evaluates: {r.get('health')} {r.get('lastError')}")

        with exposition.lock:
            present = families_with_data(exposition.last)
        for q in queries:
            expr = (q["expr"].replace("$__rate_interval", "1m").replace("$tenant", ".*").replace("$model", ".*"))
            result = api(prom_port, "/api/v1/query", query=expr)
            if not check(result.get("status") == "success",
                         f"{q['panel']} {q['ref_id']}: {result.get('error')}\n{expr}"):
                continue
            recorded_only = all(m.startswith("slo:") for m in q["metrics"])
            if recorded_only or all(has_family(present, m) for m in q["metrics"]):
                check(len(result["data"]["result"]) > 0, f"{q['panel']} {q['ref_id']} returns data:\n{expr}")
            else:
                check(False, f"{q['panel']}: the fixture has no data for {q['metrics']}")
    finally:
        prom.stop()
        server.shutdown()
        server.server_close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    with tempfile.TemporaryDirectory(prefix="llmetrics-operate-") as tmp:
        rules_path = os.path.join(tmp, "rules.yml")
        with open(rules_path, "w") as f:
            f.write(fixture(args.bin_dir, "rules", "--job", JOB, "--dashboard-url", DASHBOARD_URL))
        check_rules(rules_path)
        unit_test_rules(tmp, rules_path)
        dashboard_against_prometheus(args.bin_dir, tmp, rules_path)
    return exit_status("PASS")


if __name__ == "__main__":
    sys.exit(main())
