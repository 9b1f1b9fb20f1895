#!/usr/bin/python3
"""Exposition read back by independent parsers.

programs/exposition_fixture renders a snapshot full of hostile label values
(quotes, backslashes, newlines, invalid UTF-8, 1 KiB values, label sets that
collide under naive joining). This test parses the output with the Prometheus
and OpenMetrics parsers of python3-prometheus-client and with json, and
compares every family, label and value exactly with what the fixture says it
holds. The label values it expects are repaired here, by Python's own UTF-8
decoder (errors="replace" substitutes maximal subparts, as llmetrics does).
Exemplars recorded through a registry must come back through the OpenMetrics
parser too. `promtool check metrics` must accept the Prometheus text without a lint remark,
and the le spelling is checked against an independent implementation of Go's
strconv.FormatFloat(v, 'g', -1, 64) + ".0" on a sweep of values.

Usage: /usr/bin/python3 test_exposition_parsers.py --bin-dir <build>/bin
"""

import argparse
import decimal
import json
import math
import os
import random
import struct
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.utils import floatToGoString

from support import check, exit_status, failures


def same_number(a, b):
    """Exact equality, NaN equal to NaN, int 2**53+1 unequal to float 2**53."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and type(a) in (int, float) and type(b) in (int, float)


def go_canonical(x):
    """Go's strconv.FormatFloat(x, 'g', -1, 64), plus ".0" when the text has
    neither '.' nor 'e' (OpenMetrics 1.0, "Canonical Numbers")."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    # repr() gives the shortest digits that round-trip (David Gay's algorithm).
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = exponent + len(digits)  # position of the decimal point
    e = point - 1
    if e < -4 or e >= 6:  # shortest mode: Go decides with precision 6
        text = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text += "e" + ("-" if e < 0 else "+") + "%02d" % abs(e)
    elif point <= 0:
        text = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    if "." not in text and "e" not in text:
        text += ".0"
    return sign + text


def run(bin_dir, *args, stdin=None):
    result = subprocess.run([os.path.join(bin_dir, "exposition_fixture"), *args], input=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        sys.exit("exposition_fixture %s failed (%d): %s" % (" ".join(args), result.returncode,
                                                            result.stderr.decode(errors="replace")))
    return result.stdout


def number(text):
    return float(text)  # the fixture writes NaN, +Inf, -Inf and shortest round-trip digits


def load_expectation(bin_dir):
    raw = json.loads(run(bin_dir, "--expect"))
    families = []
    for f in raw["families"]:
        series = []
        for s in f["series"]:
            entry = {
                "labels": [(name, bytes.fromhex(value).decode("utf-8", errors="replace"))
                           for name, value in s["labels"]],
                "created": number(s["created"]),
            }
            if "integral" in s:
                fractional = number(s["fractional"])
                integral = int(s["integral"])
                entry["value"] = integral if fractional == 0 else float(integral) + fractional
            elif "value" in s:
                entry["value"] = number(s["value"])
            else:
                entry["bounds"] = [number(b) for b in s["bounds"]]
                entry["counts"] = s["counts"]
                entry["sum"] = number(s["sum"])
            series.append(entry)
        families.append({"name": f["name"], "type": f["type"], "unit": f["unit"],
                         "help": bytes.fromhex(f["help_hex"]).decode("utf-8"), "series": series})
    return sorted(families, key=lambda f: f["name"])


def histogram_samples(base, s, openmetrics):
    """The samples a histogram series should produce: (name, labels, value)."""
    labels = dict(s["labels"])
    out = []
    cumulative = 0
    bounds = s["bounds"] + [math.inf]
    for bound, count in zip(bounds, s["counts"]):
        cumulative += count
        out.append((base + "_bucket", {**labels, "le": go_canonical(bound)}, cumulative))
    out.append((base + "_sum", labels, s["sum"]))
    out.append((base + "_count", labels, cumulative))
    if openmetrics and not math.isnan(s["created"]):
        out.append((base + "_created", labels, s["created"]))
    return out


def expected_prometheus(families):
    """(family name, type, help, samples) as prometheus_client's 0.0.4 parser reports them."""
    out = []
    for f in families:
        name, samples = f["name"], []
        # (The parser reports `# TYPE x untyped` as "unknown"; the raw line is checked below.)
        typ = {"counter": "counter", "gauge": "gauge", "histogram": "histogram", "info": "gauge",
               "unknown": "unknown"}[f["type"]]
        if f["type"] == "info":
            name += "_info"
        for s in f["series"]:
            if f["type"] == "histogram":
                samples += histogram_samples(name, s, openmetrics=False)
            else:
                samples.append((name, dict(s["labels"]), s["value"]))
        # The parser names a counter family without its _total suffix.
        family_name = name[:-len("_total")] if typ == "counter" else name
        out.append((family_name, typ, f["help"], samples))
    return out


def expected_openmetrics(families):
    out = []
    for f in families:
        name, samples = f["name"], []
        if f["type"] == "counter":
            name = name[:-len("_total")]
        for s in f["series"]:
            labels = dict(s["labels"])
            if f["type"] == "histogram":
                samples += histogram_samples(name, s, openmetrics=True)
            elif f["type"] == "counter":
                samples.append((name + "_total", labels, s["value"]))
                if not math.isnan(s["created"]):
                    samples.append((name + "_created", labels, s["created"]))
            elif f["type"] == "info":
                samples.append((name + "_info", labels, 1))
            else:
                samples.append((name, labels, s["value"]))
        out.append((name, f["type"], f["help"], f["unit"], samples))
    return out


def compare_samples(where, got, expected, exact_types):
    if not check(len(got) == len(expected), "%s: %d samples, expected %d" % (where, len(got), len(expected))):
        return
    for i, ((gn, gl, gv), (en, el, ev)) in enumerate(zip(got, expected)):
        check(gn == en, "%s sample %d: name %r, expected %r" % (where, i, gn, en))
        check(gl == el, "%s sample %d (%s): labels %r, expected %r" % (where, i, en, gl, el))
        if exact_types:
            ok = same_number(gv, ev)
        else:  # the 0.0.4 parser reads every value as a float
            ok = same_number(gv, float(ev))
        check(ok, "%s sample %d (%s %r): value %r, expected %r" % (where, i, en, el, gv, ev))


def test_prometheus(bin_dir, families):
    raw = run(bin_dir, "prometheus")
    text = raw.decode("utf-8")  # strict: invalid UTF-8 must never reach the output
    check("\r\n" not in text.replace("\\r", ""), "prometheus: CRLF line ending")
    got = list(parse_prometheus(text))
    expected = expected_prometheus(families)
    check([m.name for m in got] == [e[0] for e in expected],
          "prometheus: families %r, expected %r" % ([m.name for m in got], [e[0] for e in expected]))
    for metric, (name, typ, help_text, samples) in zip(got, expected):
        check(metric.type == typ, "prometheus %s: type %r, expected %r" % (name, metric.type, typ))
        check(metric.documentation == help_text, "prometheus %s: help %r, expected %r" % (name, metric.documentation, help_text))
        compare_samples("prometheus " + name, [(s.name, s.labels, s.value) for s in metric.samples], samples,
                        exact_types=False)
    # The parser reads floats, so check the exact integer text of big counters directly.
    for line in ('fixture_requests_total{value="two_pow_53_plus_1",kind="big"} 9007199254740993\n',
                 'fixture_requests_total{value="max",kind="big"} 18446744073709551615\n',
                 'fixture_requests_total{value="123456789",kind="big"} 123456789\n',
                 'fixture_requests_total{value="fraction",kind="float"} 2.3\n',
                 'fixture_temperature_celsius{case="sum"} 0.30000000000000004\n',
                 'fixture_temperature_celsius{case="nan"} NaN\n',
                 'fixture_temperature_celsius{case="pinf"} +Inf\n',
                 'fixture_temperature_celsius{case="ninf"} -Inf\n',
                 '# TYPE fixture_legacy_value untyped\n',
                 '# TYPE fixture_build_info gauge\n',
                 '# HELP fixture_idle_total A labelled family with no series yet.\n# TYPE fixture_idle_total counter\n'):
        check(line in text, "prometheus: missing line %r" % line)

    lint = subprocess.run(["promtool", "check", "metrics"], input=raw, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    check(lint.returncode == 0 and not lint.stdout.strip(),
          "promtool check metrics: exit %d: %s" % (lint.returncode, lint.stdout.decode(errors="replace")))
    return len(text)


def test_openmetrics(bin_dir, families):
    text = run(bin_dir, "openmetrics").decode("utf-8")
    check(text.endswith("\n# EOF\n"), "openmetrics: does not end with # EOF")
    got = list(parse_openmetrics(text))  # raises on anything the spec forbids
    expected = expected_openmetrics(families)
    check([m.name for m in got] == [e[0] for e in expected],
          "openmetrics: families %r, expected %r" % ([m.name for m in got], [e[0] for e in expected]))
    for metric, (name, typ, help_text, unit, samples) in zip(got, expected):
        check(metric.type == typ, "openmetrics %s: type %r, expected %r" % (name, metric.type, typ))
        check(metric.unit == unit, "openmetrics %s: unit %r, expected %r" % (name, metric.unit, unit))
        check(metric.documentation == help_text, "openmetrics %s: help %r, expected %r" % (name, metric.documentation, help_text))
        compare_samples("openmetrics " + name, [(s.name, s.labels, s.value) for s in metric.samples], samples,
                        exact_types=True)
    # le values are canonical as the parser itself would write them.
    for metric in got:
        for s in metric.samples:
            if "le" in s.labels:
                le = s.labels["le"]
                check(le == floatToGoString(float(le)) or float(le) >= 1e7,
                      "openmetrics: le %r is not what prometheus_client writes (%r)" % (le, floatToGoString(float(le))))
    return len(text)


def json_value(v):
    return float(v) if isinstance(v, str) else v


def test_json(bin_dir, families):
    text = run(bin_dir, "json").decode("utf-8")
    doc = json.loads(text, parse_constant=lambda c: failures.append("json: bare constant " + c))
    got = doc["families"]
    names = [f["name"] if f["type"] != "info" else f["name"] + "_info" for f in families]
    check([f["name"] for f in got] == names, "json: families %r, expected %r" % ([f["name"] for f in got], names))
    for g, f in zip(got, families):
        where = "json " + g["name"]
        check(g["type"] == f["type"], "%s: type %r" % (where, g["type"]))
        check(g["help"] == f["help"], "%s: help %r" % (where, g["help"]))
        check(g.get("unit", "") == f["unit"] and ("unit" in g) == bool(f["unit"]), "%s: unit %r" % (where, g.get("unit")))
        if not check(len(g["series"]) == len(f["series"]), "%s: %d series" % (where, len(g["series"]))):
            continue
        for i, (gs, es) in enumerate(zip(g["series"], f["series"])):
            check(list(gs["labels"].items()) == es["labels"], "%s series %d: labels %r, expected %r"
                  % (where, i, gs["labels"], es["labels"]))
            if "bounds" in es:
                cumulative, buckets = 0, []
                for bound, count in zip(es["bounds"] + [math.inf], es["counts"]):
                    cumulative += count
                    buckets.append({"le": go_canonical(bound), "count": cumulative})
                check(gs["buckets"] == buckets, "%s series %d: buckets %r" % (where, i, gs["buckets"]))
                check(gs["count"] == cumulative and type(gs["count"]) is int, "%s series %d: count" % (where, i))
                check(same_number(json_value(gs["sum"]), es["sum"]), "%s series %d: sum %r" % (where, i, gs["sum"]))
            else:
                ev = es["value"]
                gv = gs["value"]
                if isinstance(ev, float) and not math.isfinite(ev):
                    check(isinstance(gv, str), "%s series %d: non-finite value as %r" % (where, i, gv))
                ok = same_number(json_value(gv), ev) or (isinstance(gv, int) and isinstance(ev, float) and gv == ev)
                check(ok, "%s series %d: value %r, expected %r" % (where, i, gv, ev))
    return len(text)


def test_exemplars(bin_dir):
    """Exemplars recorded through a registry come back through the OpenMetrics parser."""
    doc = json.loads(run(bin_dir, "--exemplars"))
    got = {}
    for metric in parse_openmetrics(doc["text"]):
        for s in metric.samples:
            if s.exemplar is not None:
                got[(s.name, tuple(sorted(s.labels.items())))] = s.exemplar
    for e in doc["expect"]:
        key = (e["sample"], tuple(sorted(e["labels"].items())))
        ex = got.pop(key, None)
        if not check(ex is not None, "exemplars: none on %r" % (key,)):
            continue
        check(ex.labels == e["exemplar"], "exemplars %r: labels %r, expected %r" % (key, ex.labels, e["exemplar"]))
        check(same_number(ex.value, e["value"]) or ex.value == e["value"],
              "exemplars %r: value %r, expected %r" % (key, ex.value, e["value"]))
        check(float(ex.timestamp) == e["timestamp"],
              "exemplars %r: timestamp %r, expected %r" % (key, ex.timestamp, e["timestamp"]))
    check(not got, "exemplars: unexpected %r" % got)
    return len(doc["expect"])


def test_canonical_numbers(bin_dir):
    rng = random.Random(20240611)
    values = [0.0, -0.0, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]
    values += [i / 1000 for i in range(0, 10001)]                    # the spec's 0.0 .. 10.0 list
    values += [float("1e%d" % e) for e in range(-323, 309)]         # every power of ten
    values += [math.nextafter(float("1e%d" % e), d) for e in range(-6, 23) for d in (0, math.inf)]
    values += [rng.choice([1, -1]) * rng.random() * 10 ** rng.randint(-12, 12) for _ in range(20000)]
    while len(values) < 60000:                                       # random bit patterns
        v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(v):
            values.append(v)
    stdin = "".join((repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")) + "\n" for v in values)
    got = run(bin_dir, "--canonical", stdin=stdin.encode()).decode().splitlines()
    check(len(got) == len(values), "canonical: %d answers for %d numbers" % (len(got), len(values)))
    bad = [(v, g, go_canonical(v)) for v, g in zip(values, got) if g != go_canonical(v)]
    check(not bad, "canonical: %d mismatches, e.g. %r" % (len(bad), bad[:5]))
    # The examples the OpenMetrics spec gives, spelled out.
    spec = "0.0 0.001 0.002 0.01 0.1 0.9 0.95 0.99 0.999 1.0 1.7 10.0 1e-10 1e-09 1e-05 0.0001 100000.0 1e+06 1e+10"
    got = run(bin_dir, "--canonical", stdin="".join(s + "\n" for s in spec.split()).encode()).decode().split()
    check(got == spec.split(), "canonical: spec examples %r" % got)
    return len(values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    bin_dir = parser.parse_args().bin_dir

    families = load_expectation(bin_dir)
    series = sum(len(f["series"]) for f in families)
    print("prometheus text: %d bytes, %d series" % (test_prometheus(bin_dir, families), series))
    print("openmetrics: %d bytes" % test_openmetrics(bin_dir, families))
    print("json: %d bytes" % test_json(bin_dir, families))
    print("openmetrics exemplars: %d compared" % test_exemplars(bin_dir))
    print("canonical numbers: %d values compared" % test_canonical_numbers(bin_dir))
    alloc = subprocess.run([os.path.join(bin_dir, "exposition_fixture"), "--check-no-alloc"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    check(alloc.returncode == 0, "encoders allocated: " + alloc.stdout.decode(errors="replace"))

    return exit_status("all exposition parser checks passed")


if __name__ == "__main__":
    sys.exit(main())
