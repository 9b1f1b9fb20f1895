#!/usr/bin/python3
"""The analytics demo (apps/llmetrics-analytics-demo.cpp) end to end.

Runs it with --json --seed and checks the report's structure and the counts
the tutorial's demo produces (5 api_call and 5 revenue events, 15 interactions
of 3 users, 10 performance samples over 3 models), that a seed makes the data
repeatable, that the default output prints the tutorial's sections, that
--prometheus output passes `promtool check metrics` and parses with
prometheus_client with the same counts, and that bad options exit with 2.

Usage: /usr/bin/python3 test_analytics_demo.py --bin-dir <build>/bin
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from support import check, exit_status


def run(demo, *args, timeout=60):
    return subprocess.run([demo, *args], capture_output=True, text=True, timeout=timeout)


def parse_iso(text):
    check(isinstance(text, str) and len(text) == 24 and text.endswith("Z"), f"not an ISO-8601 instant: {text!r}")
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_report(report):
    check(set(report) == {"generatedAt", "timeRange", "summary", "business", "users", "models", "system"},
          f"report keys: {sorted(report)}")

    tr = report["timeRange"]
    check(set(tr) == {"start", "end", "durationMs"}, f"timeRange keys: {sorted(tr)}")
    check(tr["durationMs"] == 600000, f"durationMs {tr['durationMs']} != 600000 (10 minutes)")
    start, end = parse_iso(tr["start"]), parse_iso(tr["end"])
    check((end - start).total_seconds() == 600, f"timeRange spans {end - start}")
    check(parse_iso(report["generatedAt"]) == end, "generatedAt != timeRange.end")

    s = report["summary"]
    check(set(s) == {"totalUsers", "totalModels", "avgUserSatisfaction", "systemHealth"}, f"summary keys: {sorted(s)}")
    check(s["totalUsers"] == 3, f"totalUsers {s['totalUsers']} != 3")
    check(s["totalModels"] == 3, f"totalModels {s['totalModels']} != 3")
    check(is_number(s["avgUserSatisfaction"]) and 0 <= s["avgUserSatisfaction"] <= 100,
          f"avgUserSatisfaction {s['avgUserSatisfaction']}")
    check(isinstance(s["systemHealth"], int) and s["systemHealth"] in range(0, 101, 5),
          f"systemHealth {s['systemHealth']}")

    b = report["business"]
    check(set(b) == {"api_call", "revenue"}, f"business types: {sorted(b)}")
    for t in b.values():
        check(set(t) == {"count", "totalValue", "avgValue"}, f"business entry keys: {sorted(t)}")
    check(b["api_call"] == {"count": 5, "totalValue": 5.0, "avgValue": 1.0}, f"api_call: {b['api_call']}")
    r = b["revenue"]
    check(r["count"] == 5, f"revenue count {r['count']} != 5")
    check(0 <= r["totalValue"] < 50, f"revenue total {r['totalValue']} outside [0, 50)")
    check(abs(r["avgValue"] - r["totalValue"] / 5) < 1e-9, "revenue avgValue != totalValue / 5")

    u = report["users"]
    check(set(u) == {"activeUsers", "totalInteractions", "avgInteractionsPerUser", "avgSatisfactionScore"},
          f"users keys: {sorted(u)}")
    check(u["activeUsers"] == 3, f"activeUsers {u['activeUsers']} != 3")
    check(u["totalInteractions"] == 15, f"totalInteractions {u['totalInteractions']} != 15")
    check(u["avgInteractionsPerUser"] == 5, f"avgInteractionsPerUser {u['avgInteractionsPerUser']} != 5")
    # Durations are 500..3500 ms: scores are 50 + 20 or not, + 15 or not, - 10 per error.
    check(0 <= u["avgSatisfactionScore"] <= 85, f"avgSatisfactionScore {u['avgSatisfactionScore']}")

    m = report["models"]
    check(set(m) == {"gpt-3.5-turbo", "gpt-4", "claude-3"}, f"models: {sorted(m)}")
    check(sum(x["requests"] for x in m.values()) == 10, "model requests do not add up to 10")
    for name, x in m.items():
        check(set(x) == {"requests", "avgLatency", "avgAccuracy", "errorRate"}, f"{name} keys: {sorted(x)}")
        check(x["requests"] >= 1, f"{name}: no requests")
        check(1000 <= x["avgLatency"] < 3000, f"{name}: avgLatency {x['avgLatency']}")
        check(80 <= x["avgAccuracy"] < 100, f"{name}: avgAccuracy {x['avgAccuracy']}")
        check(0 <= x["errorRate"] <= 1, f"{name}: errorRate {x['errorRate']}")

    sysm = report["system"]
    check({"memory_usage", "cpu_usage", "uptime"} <= set(sysm), f"system metrics: {sorted(sysm)}")
    for name, x in sysm.items():
        check(set(x) == {"count", "latest", "trend"}, f"system {name} keys: {sorted(x)}")
        check(x["count"] >= 1, f"system {name}: count {x['count']}")
        check(x["trend"] in ("increasing", "decreasing", "stable"), f"system {name}: trend {x['trend']}")
        check(isinstance(x["latest"].get("timestamp"), int), f"system {name}: latest has no timestamp")
    if "memory_usage" in sysm:
        check(sysm["memory_usage"]["latest"].get("rss", 0) > 0, "memory_usage.latest.rss missing")
    if "uptime" in sysm:
        check(sysm["uptime"]["trend"] in ("increasing", "stable"), "uptime decreasing")


def deterministic_part(report):
    return {k: report[k] for k in ("business", "users", "models")} | {
        "avgUserSatisfaction": report["summary"]["avgUserSatisfaction"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    args = parser.parse_args()
    demo = os.path.join(args.bin_dir, "llmetrics-analytics-demo")
    if not os.path.exists(demo):
        print(f"missing {demo}", file=sys.stderr)
        return 1

    # --json: stdout is exactly one JSON document.
    p = run(demo, "--json", "--seed", "7")
    check(p.returncode == 0, f"--json --seed 7 exited {p.returncode}: {p.stderr}")
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        check(False, f"--json output is not one JSON document: {e}")
        report = None
    if report is not None:
        check_report(report)
        check(report["system"].get("scheduling_lag", {}).get("count", 0) >= 1,
              "no scheduling_lag sample although the sampler ran for 300 ms at 100 ms")

    # The same seed gives the same data; another seed different data.
    again = json.loads(run(demo, "--json", "--seed=7", "--wait-ms", "0").stdout)
    other = json.loads(run(demo, "--json", "--seed", "8", "--wait-ms", "0").stdout)
    check_report(again)
    check_report(other)
    if report is not None:
        check(deterministic_part(report) == deterministic_part(again), "--seed 7 twice gave different data")
        check(deterministic_part(report) != deterministic_part(other), "--seed 7 and --seed 8 gave the same data")

    # Default: the tutorial's sections, readable.
    p = run(demo, "--seed", "7", "--wait-ms", "0")
    check(p.returncode == 0, f"default run exited {p.returncode}: {p.stderr}")
    for heading in ("Report Summary:", "Business Metrics:", "User Metrics:", "Model Metrics:", "System Health:",
                    "Recording business events", "Recording user interactions", "Recording model performance"):
        check(heading in p.stdout, f"default output lacks {heading!r}")
    check('"totalInteractions": 15' in p.stdout, "default output lacks the users section's content")

    # --prometheus: the collector's families as a registry exposes them.
    p = run(demo, "--prometheus", "--seed", "7", "--wait-ms", "250")
    check(p.returncode == 0, f"--prometheus exited {p.returncode}: {p.stderr}")
    promtool = shutil.which("promtool")
    if check(promtool is not None, "promtool not found"):
        lint = subprocess.run([promtool, "check", "metrics"], input=p.stdout, capture_output=True, text=True)
        check(lint.returncode == 0, f"promtool check metrics: {lint.stdout}{lint.stderr}")
    samples = {}
    for family in parse_prometheus(p.stdout):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    check(samples.get(("llmetrics_analytics_business_events_total", (("type", "api_call"),))) == 5,
          "business_events_total{type=api_call} != 5")
    check(samples.get(("llmetrics_analytics_business_events_total", (("type", "revenue"),))) == 5,
          "business_events_total{type=revenue} != 5")
    check(samples.get(("llmetrics_analytics_user_interactions_total", ())) == 15, "user_interactions_total != 15")
    check(samples.get(("llmetrics_analytics_users_tracked", ())) == 3, "users_tracked != 3")
    requests = {dict(k[1]).get("model"): v for k, v in samples.items()
                if k[0] == "llmetrics_analytics_model_requests_total"}
    check(set(requests) == {"gpt-3.5-turbo", "gpt-4", "claude-3"} and sum(requests.values()) == 10,
          f"model_requests_total: {requests}")
    if report is not None:
        check(requests == {k: v["requests"] for k, v in report["models"].items()},
              "the exported model requests differ from the report's")
        check(samples.get(("llmetrics_analytics_user_satisfaction", ())) ==
              report["summary"]["avgUserSatisfaction"], "user_satisfaction differs from the report's")
    check(("llmetrics_analytics_system_sample", (("field", "rss"), ("metric", "memory_usage"))) in samples,
          "no system_sample{metric=memory_usage,field=rss}")
    check(samples.get(("llmetrics_analytics_evicted_total", (("kind", "user"),))) == 0, "evicted_total{user} != 0")

    # --help, and bad usage: exit 2 with a message on stderr, nothing on stdout.
    p = run(demo, "--help")
    check(p.returncode == 0 and "usage:" in p.stdout and "--seed" in p.stdout, "--help")
    for bad in (["--bogus"], ["--seed"], ["--seed", "abc"], ["--seed", "-1"], ["--json=yes"],
                ["--json", "--prometheus"], ["extra"]):
        p = run(demo, *bad)
        check(p.returncode == 2, f"{bad}: exit {p.returncode}, expected 2")
        check(p.stdout == "", f"{bad}: printed on stdout: {p.stdout[:200]!r}")
        check("llmetrics-analytics-demo:" in p.stderr, f"{bad}: no error message: {p.stderr!r}")
    check("unknown option '--bogus'" in run(demo, "--bogus").stderr, "unknown option message")

    return exit_status("test_analytics_demo: ok")


if __name__ == "__main__":
    sys.exit(main())
