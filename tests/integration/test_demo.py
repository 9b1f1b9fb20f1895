#!/usr/bin/python3
"""The tutorial's demo (apps/llmetrics-demo/) end to end.

Checks that the default run prints the tutorial's key metric lines and their
count; that --format prometheus passes `promtool check metrics`; that
--format openmetrics is accepted by prometheus_client's OpenMetrics parser and
--format json by a JSON parser; that each of the tutorial's twelve families is
there with its type, help, label names (in order) and buckets, plus the
process metrics under the same prefix; that failing router calls show up in
errors_total and in model_inference_total{status="error"}; that a seed makes
the run repeatable; that with several upstreams per model (--upstreams) the
gateway families show attempts, retries and fallbacks whose sums agree with the
requests (check_gateway_families, shared with test_demo_service); and that bad
options exit with 2.

Usage: /usr/bin/python3 test_demo.py --bin-dir <build>/bin
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from support import check, exit_status


def run(demo, *args, timeout=60):
    return subprocess.run([demo, *args], capture_output=True, text=True, timeout=timeout)


# name (without prefix), type, help, label names in order, bucket bounds
FAMILIES = [
    ("http_requests_total", "counter", "Total number of HTTP requests",
     ["method", "route", "status_code", "tenant_id"], None),
    ("http_request_duration_seconds", "histogram", "Duration of HTTP requests in seconds",
     ["method", "route", "tenant_id"], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10]),
    ("model_inference_total", "counter", "Total number of model inferences",
     ["model_id", "strategy", "status", "tenant_id"], None),
    ("model_inference_duration_seconds", "histogram", "Duration of model inference in seconds",
     ["model_id", "strategy", "tenant_id"], [0.1, 0.5, 1, 2, 5, 10, 30, 60]),
    ("model_inference_tokens", "histogram", "Number of tokens generated per inference",
     ["model_id", "strategy", "tenant_id"], [1, 10, 50, 100, 200, 500, 1000, 2000]),
    ("active_connections", "gauge", "Number of active connections", ["tenant_id"], None),
    ("queue_depth", "gauge", "Current queue depth", ["queue_type", "tenant_id"], None),
    ("cache_hits_total", "counter", "Total number of cache hits", ["cache_type", "tenant_id"], None),
    ("cache_misses_total", "counter", "Total number of cache misses", ["cache_type", "tenant_id"], None),
    ("request_cost_cents", "histogram", "Cost of requests in cents", ["model_id", "tenant_id"],
     [0.1, 0.5, 1, 2, 5, 10, 20, 50]),
    ("model_load_time_seconds", "histogram", "Time taken to load models", ["model_id", "format", "loader"],
     [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120]),
    ("errors_total", "counter", "Total number of errors", ["error_type", "model_id", "tenant_id"], None),
]

PROCESS_METRICS = ["process_cpu_user_seconds_total", "process_cpu_system_seconds_total", "process_cpu_seconds_total",
                   "process_start_time_seconds", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                   "process_open_fds", "process_max_fds", "process_threads"]

SAMPLE_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def sample_lines(text):
    """(name, [(label, value)...] in text order, value) for each sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_LINE.match(line)
        if check(m is not None, f"unparsable sample line: {line!r}") and m:
            out.append((m.group(1), LABEL.findall(m.group(2) or ""), float(m.group(3))))
    return out


def total(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(dict(l).get(k) == w for k, w in labels.items()))


def check_families_text(text, fmt):
    """Type, help, label order and buckets, read straight from the exposition text."""
    samples = sample_lines(text)
    for short, kind, help_text, label_names, bounds in FAMILIES:
        name = "llm_router_" + short
        family = name[:-len("_total")] if fmt == "openmetrics" and kind == "counter" else name
        check(f"# TYPE {family} {kind}\n" in text, f"{fmt}: no '# TYPE {family} {kind}'")
        check(f"# HELP {family} {help_text}\n" in text, f"{fmt}: no '# HELP {family} {help_text}'")
        sample_name = name if kind != "histogram" else name + "_count"
        rows = [l for n, l, _ in samples if n == sample_name]
        if not check(rows, f"{fmt}: no samples of {sample_name}"):
            continue
        for labels in rows:
            check([k for k, _ in labels] == label_names,
                  f"{fmt}: {sample_name} labels {[k for k, _ in labels]} != {label_names}")
        if bounds:
            series = {tuple(l) for n, l, _ in samples if n == name + "_count"}
            for labels in series:
                les = [dict(l)["le"] for n, l, _ in samples
                       if n == name + "_bucket" and tuple(x for x in l if x[0] != "le") == labels]
                expected = [b for b in bounds]
                got = [float(x) for x in les[:-1]]
                check(got == [float(b) for b in expected] and les[-1] == "+Inf",
                      f"{fmt}: {name} buckets {les} != {expected} + +Inf")
                check([k for k, _ in labels] == label_names, f"{fmt}: {name}_bucket label order")
    for short in PROCESS_METRICS:
        check(any(n == "llm_router_" + short for n, _, _ in samples), f"{fmt}: process metric llm_router_{short} missing")
    return samples


def check_gateway_families(samples, what, upstreams):
    """The gateway families of one exposition agree with its inference counts:
    every attempt but a call's first is a retry or a fallback, every success is
    one successful attempt, every failed call and fallback gave up on a model;
    each upstream is in exactly one health state. Returns (retries, fallbacks)."""
    p = "llm_router_"
    calls = total(samples, p + "model_inference_total")
    ok = total(samples, p + "model_inference_total", status="success")
    not_found = total(samples, p + "errors_total", error_type="ModelNotFoundError")  # no upstream tried
    attempts = total(samples, p + "upstream_attempts_total")
    retries = total(samples, p + "retries_total")
    fallbacks = total(samples, p + "fallbacks_total")
    exhausted = total(samples, p + "retries_exhausted_total")
    check(calls > 0 and attempts > 0, f"{what}: {calls} inferences, {attempts} attempts")
    check(attempts == calls - not_found + retries + fallbacks,
          f"{what}: attempts {attempts} != calls {calls} - not found {not_found} + retries {retries} "
          f"+ fallbacks {fallbacks}")
    check(total(samples, p + "upstream_attempts_total", result="success") == ok,
          f"{what}: successful attempts != successful inferences {ok}")
    check(exhausted == calls - not_found - ok + fallbacks,
          f"{what}: retries exhausted {exhausted} != failed calls {calls - not_found - ok} + fallbacks {fallbacks}")
    for n, labels, _ in samples:
        if n == p + "fallbacks_total":
            d = dict(labels)
            check(d["from_model"] != d["to_model"], f"{what}: a fallback to the same model: {d}")
    names = {dict(l)["upstream"] for n, l, _ in samples if n == p + "upstream_attempts_total"}
    models = {dict(l)["model_id"] for n, l, _ in samples if n == p + "upstream_attempts_total"}
    check(names <= {f"{m}-{k}" for m in models for k in range(1, upstreams + 1)},
          f"{what}: upstream names {sorted(names)} (expected <model>-1..{upstreams})")
    states = {}
    for n, labels, v in samples:
        if n == p + "upstream_health":
            d = dict(labels)
            states.setdefault((d["model_id"], d["upstream"]), []).append((d["state"], v))
    check(states and all(sorted(s for s, _ in st) == ["cooling_down", "degraded", "up"] and sum(v for _, v in st) == 1
                         for st in states.values()), f"{what}: one health state per upstream: {states}")
    check(set(states) == {(m, u) for m in models for u in names if u.startswith(m + "-")},
          f"{what}: every upstream attempted has a health state")
    check(total(samples, p + "requests_in_flight") == 0 and total(samples, p + "requests_queued") == 0,
          f"{what}: nothing left in flight or queued")
    tokens = {t: total(samples, p + "tokens_total", token_type=t)
              for t in ("input", "output", "cached_input", "reasoning_output")}
    check(0 < tokens["cached_input"] <= tokens["input"] and 0 < tokens["reasoning_output"] <= tokens["output"],
          f"{what}: tokens by type {tokens}")
    spend = total(samples, p + "tenant_spend_cents_total")
    cost = total(samples, p + "request_cost_cents_sum")
    check(abs(spend - cost) <= 1e-6 * max(1.0, cost), f"{what}: spend {spend} != request cost {cost}")
    for n, labels, v in samples:
        if n == p + "tenant_budget_remaining_cents":
            tenant = dict(labels)["tenant_id"]
            spent = total(samples, p + "tenant_spend_cents_total", tenant_id=tenant)
            budget = {"tenant-a": 100000, "tenant-b": 10}.get(tenant)
            check(budget is not None and abs(v - (budget - spent)) < 1e-6 * budget,
                  f"{what}: {tenant}'s budget left {v} != {budget} - spent {spent}")
    check(total(samples, p + "router_overhead_seconds_count") == calls - not_found,
          f"{what}: router overhead observed once per routed call")
    return retries, fallbacks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    demo = os.path.join(args.bin_dir, "llmetrics-demo")
    if not os.path.exists(demo):
        print(f"{demo} not built", file=sys.stderr)
        return 1

    # --- the tutorial's run ---------------------------------------------------
    started = time.monotonic()
    r = run(demo)
    elapsed = time.monotonic() - started
    check(r.returncode == 0, f"default run exited {r.returncode}: {r.stderr}")
    check(elapsed < 2.0, f"default run took {elapsed:.2f} s (simulated latency must not be slept)")
    out = r.stdout
    check("Key metrics:" in out, "no 'Key metrics:' section")
    requests = re.findall(r"^Request (\d+) (successful|failed)", out, re.M)
    check([int(n) for n, _ in requests] == list(range(1, 11)), f"request lines: {requests}")
    key = re.search(r"Key metrics:\n((?:  .*\n)*)", out)
    key_lines = key.group(1).splitlines() if key else []
    check(len(key_lines) == 10, f"{len(key_lines)} key metric lines, expected 10")
    check(all(l.startswith("  llm_router_") for l in key_lines), f"key lines: {key_lines}")
    count = re.search(r"Total metrics lines: (\d+)", out)
    check(count is not None, "no 'Total metrics lines: N'")

    # --- Prometheus text: promtool and the families ------------------------------
    r = run(demo, "--format", "prometheus")
    check(r.returncode == 0, f"--format prometheus exited {r.returncode}: {r.stderr}")
    prom = r.stdout
    check(prom.startswith("# HELP ") or prom.startswith("# TYPE "), "--format prometheus prints something else first")
    promtool = shutil.which("promtool")
    if check(promtool is not None, "promtool not found"):
        p = subprocess.run([promtool, "check", "metrics"], input=prom, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"promtool check metrics failed: {p.stdout}{p.stderr}")
    list(parse_prometheus(prom))  # raises on a syntax error
    samples = check_families_text(prom, "prometheus")
    if count:
        n = sum(1 for line in prom.splitlines() if line.startswith("llm_router_"))
        check(int(count.group(1)) == n, f"'Total metrics lines: {count.group(1)}' but the registry has {n}")

    # The failures the simulation injects are recorded as the tutorial does.
    errors = total(samples, "llm_router_errors_total")
    status_error = total(samples, "llm_router_model_inference_total", status="error")
    status_success = total(samples, "llm_router_model_inference_total", status="success")
    failed = len([1 for _, s in requests if s == "failed"])
    check(errors > 0 and failed > 0, f"seed 42 gives no failed call (errors_total {errors}, {failed} failed lines)")
    check(errors == status_error == failed, f"errors_total {errors}, status=error {status_error}, failed lines {failed}")
    check(status_success == 10 - failed, f"status=success {status_success}")
    error_types = {dict(l)["error_type"] for n, l, _ in samples if n == "llm_router_errors_total"}
    check(error_types <= {"TimeoutError", "RateLimitError"}, f"error types {error_types}")
    check(total(samples, "llm_router_model_load_time_seconds_count") == 3, "three models registered")
    check(total(samples, "llm_router_model_load_time_seconds_count", loader="auto") == 1, "loader defaults to auto")
    check(total(samples, "llm_router_http_requests_total") == 10, "ten HTTP requests")
    check(total(samples, "llm_router_cache_hits_total") == 4, "cache hits: i % 3 == 0 for i < 10")
    check(total(samples, "llm_router_cache_misses_total") == 6, "cache misses")
    check(total(samples, "llm_router_active_connections") == 0, "connection guards released")
    tenants = {dict(l).get("tenant_id") for n, l, _ in samples if n == "llm_router_model_inference_total"}
    models = {dict(l).get("model_id") for n, l, _ in samples if n == "llm_router_model_inference_total"}
    check(tenants == {"tenant-a", "tenant-b"}, f"tenants {tenants}")
    check(models == {"gpt-4", "gpt-3.5-turbo"}, f"models {models}")

    # More requests: still consistent.
    r = run(demo, "--format", "prometheus", "--requests", "200", "--seed", "7")
    many = sample_lines(r.stdout)
    e, s = total(many, "llm_router_errors_total"), total(many, "llm_router_model_inference_total", status="error")
    check(e == s and e > 0, f"200 requests: errors_total {e}, status=error {s}")
    check(total(many, "llm_router_model_inference_total") == 200, "200 inferences recorded")

    # --- several upstreams per model: attempts, retries, fallbacks ----------------
    r = run(demo, "--format", "prometheus", "--requests", "400", "--failure-rate", "0.3", "--upstreams", "3")
    check(r.returncode == 0, f"--upstreams 3 exited {r.returncode}: {r.stderr}")
    retries, fallbacks = check_gateway_families(sample_lines(r.stdout), "--upstreams 3", 3)
    check(retries > 0 and fallbacks > 0, f"--upstreams 3: {retries} retries, {fallbacks} fallbacks")
    r = run(demo, "--format", "prometheus", "--requests", "200", "--failure-rate", "0.3", "--upstreams", "1")
    retries, fallbacks = check_gateway_families(sample_lines(r.stdout), "--upstreams 1", 1)
    check(retries == 0 and fallbacks > 0, f"--upstreams 1: no retries ({retries}), fallbacks ({fallbacks})")
    r = run(demo, "--format", "prometheus", "--requests", "100", "--failure-rate", "0")
    quiet = sample_lines(r.stdout)
    check(total(quiet, "llm_router_retries_total") == 0 and total(quiet, "llm_router_fallbacks_total") == 0
          and total(quiet, "llm_router_upstream_attempts_total") == 100,
          "--failure-rate 0: one attempt per request, no retry, no fallback")
    check_gateway_families(samples, "default run", 2)  # --format prometheus, 10 requests, 2 upstreams

    # --- OpenMetrics: an independent parser ------------------------------------
    r = run(demo, "--format", "openmetrics")
    check(r.returncode == 0, f"--format openmetrics exited {r.returncode}: {r.stderr}")
    om = r.stdout
    check(om.endswith("# EOF\n"), "OpenMetrics output does not end with # EOF")
    try:
        families = {f.name: f for f in parse_openmetrics(om)}
        for short, kind, _, _, _ in FAMILIES:
            name = "llm_router_" + short
            name = name[:-len("_total")] if kind == "counter" else name
            if check(name in families, f"openmetrics: family {name} missing"):
                check(families[name].type == kind, f"openmetrics: {name} is {families[name].type}, not {kind}")
    except Exception as exc:  # noqa: BLE001 - any parser error is a failure
        check(False, f"OpenMetrics parser rejected the output: {exc}")
    check_families_text(om, "openmetrics")

    # --- JSON ------------------------------------------------------------------
    r = run(demo, "--format", "json")
    check(r.returncode == 0, f"--format json exited {r.returncode}")
    try:
        doc = json.loads(r.stdout)
        names = json.dumps(doc)
        for short, _, _, _, _ in FAMILIES:
            check(f'"llm_router_{short}' in names, f"json: llm_router_{short} missing")
    except ValueError as exc:
        check(False, f"--format json is not JSON: {exc}")

    # --- a seed makes the run repeatable ----------------------------------------
    def recorded(text):
        return [line for line in text.splitlines()
                if line.startswith("llm_router_") and not line.startswith(("llm_router_process_", "llm_router_llmetrics_"))
                and "_created" not in line]

    a = run(demo, "--format", "prometheus", "--seed", "3").stdout
    b = run(demo, "--format", "prometheus", "--seed", "3").stdout
    c = run(demo, "--format", "prometheus", "--seed", "4").stdout
    check(recorded(a) == recorded(b) and recorded(a), "the same seed gives different metrics")
    check(recorded(a) != recorded(c), "different seeds give the same metrics")

    # --- options ---------------------------------------------------------------------
    r = run(demo, "--help")
    check(r.returncode == 0 and "--format" in r.stdout and "--requests" in r.stdout and "--seed" in r.stdout
          and "--upstreams N" in r.stdout, f"--help: {r.returncode} {r.stdout!r}")
    for bad in (["--bogus"], ["--format", "xml"], ["--format"], ["--requests", "ten"], ["--requests"],
                ["--seed", "-1"], ["--help=yes"], ["positional"], ["--upstreams", "0"], ["--upstreams", "17"]):
        r = run(demo, *bad)
        check(r.returncode == 2, f"{bad}: exit {r.returncode}, expected 2")
        check(r.stdout == "", f"{bad}: printed to stdout: {r.stdout!r}")
        check("llmetrics-demo:" in r.stderr, f"{bad}: no error message on stderr: {r.stderr!r}")
    r = run(demo, "--requests=3", "--format=prometheus")
    check(r.returncode == 0 and total(sample_lines(r.stdout), "llm_router_http_requests_total") == 3,
          "--name=value form")
    r = run(demo, "--requests", "0")
    check(r.returncode == 0, "zero requests")

    return exit_status("test_demo: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
