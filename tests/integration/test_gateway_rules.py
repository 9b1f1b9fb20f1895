#!/usr/bin/python3
"""The gateway alerts of the generated rules, checked by promtool.

`llmetrics-demo --emit-rules` writes the rules for the demo's registry, which
holds the gateway families (include/llmetrics/instrument/gateway_catalog.hpp).
`promtool check rules` must accept them, and `promtool test rules` runs a
unit-test file written here:
  - FallbackRateHigh: fallbacks away from gpt-4 at 3 a minute against 10
    inferences a minute (30% > 10%) fire after its 10 minutes pending;
    gpt-3.5-turbo's 5% stays silent;
  - UpstreamDown: gpt-4-1 cooling down from minute 2 to 7 fires after 2
    minutes and resolves when it is back; gpt-4-2, always up, never fires;
  - TenantBudgetExhausted: tenant-b's budget reaching 0 at minute 3 fires after
    1 minute; tenant-a's untouched budget never does.
Each expected alert carries the labels and annotations the rules declare (the
templates filled in as Prometheus does).

Usage: /usr/bin/python3 test_gateway_rules.py --bin-dir <build>/bin
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from support import check, exit_status


def rule(rules, alertname):
    for group in rules["groups"]:
        for r in group["rules"]:
            if r.get("alert") == alertname:
                return r
    sys.exit(f"no alert {alertname} in the rules")


def expected(rules, alertname, series_labels, value):
    """The alert as promtool reports it: series labels + rule labels, annotations
    with {{ $labels.x }} and {{ $value }} (plain or humanizePercentage) filled in."""
    r = rule(rules, alertname)
    labels = dict(series_labels)
    labels.update(r.get("labels", {}))

    def fill(text):
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)
        text = text.replace("{{ $value | humanizePercentage }}", value.get("percent", ""))
        text = text.replace("{{ $value }}", value.get("plain", ""))
        check("{{" not in text, f"{alertname}: a template this test cannot fill: {text!r}")
        return text

    return {"exp_labels": labels, "exp_annotations": {k: fill(v) for k, v in r.get("annotations", {}).items()}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    demo = os.path.join(args.bin_dir, "llmetrics-demo")
    if not os.path.exists(demo):  # sanitizer configurations build no examples
        print(f"SKIPPED: {demo} not built (LLMETRICS_BUILD_EXAMPLES=OFF)")
        return 0
    if not shutil.which("promtool"):
        sys.exit("promtool not found (scripts/install-deps.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="llmetrics-gateway-rules-") as tmp:
        rules_path = os.path.join(tmp, "rules.yml")
        r = subprocess.run([demo, "--emit-rules", rules_path], capture_output=True, text=True, timeout=60)
        if not check(r.returncode == 0, f"--emit-rules: {r.returncode} {r.stderr}"):
            return exit_status("")
        r = subprocess.run(["promtool", "check", "rules", rules_path], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "SUCCESS" in r.stdout, f"promtool check rules:\n{r.stdout}{r.stderr}")
        with open(rules_path) as f:
            rules = yaml.safe_load(f)

        inference = "llm_router_model_inference_total"
        fallbacks = "llm_router_fallbacks_total"
        health = "llm_router_upstream_health"
        budget = "llm_router_tenant_budget_remaining_cents"
        # Minutes; counters start above 0 ("0x..." would read as hexadecimal).
        input_series = [
            {"series": f'{inference}{{model_id="gpt-4",strategy="balanced",status="success",tenant_id="t"}}',
             "values": "10+10x40"},
            {"series": f'{inference}{{model_id="gpt-3.5-turbo",strategy="balanced",status="success",tenant_id="t"}}',
             "values": "10+20x40"},
            {"series": f'{fallbacks}{{from_model="gpt-4",to_model="gpt-3.5-turbo",reason="timeout"}}',
             "values": "1+3x40"},
            {"series": f'{fallbacks}{{from_model="gpt-3.5-turbo",to_model="gpt-4",reason="rate_limited"}}',
             "values": "1+1x40"},
            {"series": f'{health}{{model_id="gpt-4",upstream="gpt-4-1",state="cooling_down"}}',
             "values": "0 0 1 1 1 1 1 1 0 0 0 0"},
            {"series": f'{health}{{model_id="gpt-4",upstream="gpt-4-1",state="up"}}',
             "values": "1 1 0 0 0 0 0 0 1 1 1 1"},
            {"series": f'{health}{{model_id="gpt-4",upstream="gpt-4-2",state="cooling_down"}}',
             "values": "0+0x11"},
            {"series": f'{budget}{{tenant_id="tenant-a"}}', "values": "100000+0x10"},
            {"series": f'{budget}{{tenant_id="tenant-b"}}', "values": "5 3 1 0 -1 -2 -2 -2 -2 -2 -2"},
        ]
        fallback = expected(rules, "FallbackRateHigh", {"model_id": "gpt-4"}, {"percent": "30%"})
        down = expected(rules, "UpstreamDown", {"model_id": "gpt-4", "upstream": "gpt-4-1"}, {})
        spent = expected(rules, "TenantBudgetExhausted", {"tenant_id": "tenant-b"}, {"plain": "-2"})
        check(fallback["exp_labels"]["severity"] == "ticket" and down["exp_labels"]["severity"] == "page"
              and spent["exp_labels"]["severity"] == "ticket", "severities: fallback ticket, down page, budget ticket")
        check("var-tenant=tenant-b" in spent["exp_annotations"].get("dashboard", ""),
              f"the budget alert links the tenant's dashboard: {spent['exp_annotations']}")

        def at(minutes, alertname, alerts):
            return {"eval_time": f"{minutes}m", "alertname": alertname, "exp_alerts": alerts}

        tests = [{
            "interval": "1m",
            "input_series": input_series,
            "alert_rule_test": [
                at(8, "FallbackRateHigh", []),  # pending: `for: 10m`
                at(20, "FallbackRateHigh", [fallback]),
                at(3, "UpstreamDown", []),  # cooling down since 2m, `for: 2m`
                at(5, "UpstreamDown", [down]),
                at(10, "UpstreamDown", []),  # back up at 8m
                at(3, "TenantBudgetExhausted", []),  # at 0 since 3m, `for: 1m`
                at(5, "TenantBudgetExhausted", [spent]),
            ],
        }]
        test_path = os.path.join(tmp, "rules_test.yml")
        with open(test_path, "w") as f:
            yaml.safe_dump({"rule_files": [os.path.basename(rules_path)], "evaluation_interval": "1m",
                            "tests": tests}, f, sort_keys=False, width=1000)
        r = subprocess.run(["promtool", "test", "rules", os.path.basename(test_path)], cwd=tmp, capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, f"promtool test rules:\n{r.stdout}{r.stderr}")
    return exit_status("test_gateway_rules: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
