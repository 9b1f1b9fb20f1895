#!/usr/bin/python3
"""The protobuf exposition decoded by the real protobuf library.

Compiles tests/integration/proto/metrics.proto (written for these tests from the
published io.prometheus.client schema) with `protoc --python_out` into a temp
dir, runs `protobuf_fixture --write` (a hand-made set of families of every kind
and a seeded random set, rendered as collector snapshots) and decodes each
length-delimited MetricFamily with python3-protobuf, checking every field
against what the fixture recorded: names, help, units, types, labels (hostile
values byte for byte), counter values, created timestamps, exemplars with their
timestamps, classic buckets (cumulative, +Inf only for its exemplar), native
schema, zero bucket, spans and delta-encoded counts, the no-op span of an empty
native histogram, the native exemplars field. Then the fixture's --serve mode:
the exposer answers Prometheus' Accept header with protobuf, gzip included.

Usage: /usr/bin/python3 test_protobuf.py --bin-dir <build>/bin
"""

import argparse
import gzip
import http.client
import importlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from support import check, exit_status, stop_process

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ACCEPT_242 = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
                    "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;"
                    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROTO_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
TYPES = {"counter": 0, "gauge": 1, "info": 1, "unknown": 3, "histogram": 4}


def load_schema(tmp):
    out = os.path.join(tmp, "pb")
    os.makedirs(out)
    subprocess.run(["protoc", f"--proto_path={os.path.join(HERE, 'proto')}", f"--python_out={out}", "metrics.proto"],
                   check=True)
    sys.path.insert(0, out)
    return importlib.import_module("metrics_pb2")


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at
        shift += 7


def decode_stream(pb, data):
    families, at = [], 0
    while at < len(data):
        n, at = read_varint(data, at)
        check(at + n <= len(data), f"a family's length {n} runs past the end")
        mf = pb.MetricFamily()
        mf.ParseFromString(data[at:at + n])
        families.append(mf)
        at += n
    return families


def num(text):
    return float.fromhex(text)


def same(a, b):
    """Equal doubles, bit for bit (NaN equals NaN, 0.0 differs from -0.0)."""
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def expected_timestamp(t):
    """(seconds, nanos) of a google.protobuf.Timestamp for unix seconds t, or None."""
    if not math.isfinite(t):
        return None
    whole = math.floor(t)
    nanos = math.floor((t - whole) * 1e9 + 0.5)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return (whole, nanos)


def check_timestamp(where, msg, field, t):
    want = expected_timestamp(t)
    has = msg.HasField(field)
    if want is None:
        check(not has, f"{where}: {field} absent for an unknown time")
        return
    if check(has, f"{where}: {field} present"):
        got = getattr(msg, field)
        check((got.seconds, got.nanos) == want, f"{where}: {field} {got.seconds}.{got.nanos} != {want}")


def labels_of(msg_labels):
    return [[l.name, l.value] for l in msg_labels]


def check_exemplar(where, got, want):
    check(labels_of(got.label) == want["labels"], f"{where}: exemplar labels {labels_of(got.label)} != {want['labels']}")
    check(same(got.value, num(want["value"])), f"{where}: exemplar value {got.value} != {want['value']}")
    check_timestamp(where, got, "timestamp", num(want["timestamp"]))


def present(x):
    return len(x["labels"]) > 0


def to_int64(d):
    return ((d + 2 ** 63) % 2 ** 64) - 2 ** 63


def check_classic(where, h, bounds, counts, exemplars):
    check(h.sample_count == sum(counts), f"{where}: sample_count {h.sample_count} != {sum(counts)}")
    buckets = list(h.bucket)
    with_inf = len(exemplars) == len(bounds) + 1 and present(exemplars[-1])
    if not check(len(buckets) == len(bounds) + (1 if with_inf else 0),
                 f"{where}: {len(buckets)} buckets for {len(bounds)} bounds (+Inf exemplar: {with_inf})"):
        return
    cumulative = 0
    for i, b in enumerate(buckets):
        cumulative += counts[i] if i < len(bounds) else sum(counts[len(bounds):])
        bound = num(bounds[i]) if i < len(bounds) else math.inf
        check(b.cumulative_count == cumulative and same(b.upper_bound, bound),
              f"{where}: bucket {i} ({b.cumulative_count}, {b.upper_bound}) != ({cumulative}, {bound})")
        x = exemplars[i] if i < len(exemplars) and present(exemplars[i]) else None
        if check(b.HasField("exemplar") == (x is not None), f"{where}: bucket {i} exemplar presence"):
            if x is not None:
                check_exemplar(f"{where} bucket {i}", b.exemplar, x)


def check_native_side(where, h, spans_field, deltas_field, spans, counts):
    got_spans = [[s.offset, s.length] for s in getattr(h, spans_field)]
    check(got_spans == spans, f"{where}: {spans_field} {got_spans} != {spans}")
    deltas, previous = [], 0
    for c in counts:
        deltas.append(to_int64(c - previous))
        previous = c
    check(list(getattr(h, deltas_field)) == deltas, f"{where}: {deltas_field} differ")
    # Read back the way Prometheus does: running sums of the deltas are the counts.
    running, absolute = 0, []
    for d in getattr(h, deltas_field):
        running += d
        absolute.append(running)
    check(absolute == counts, f"{where}: {deltas_field} do not sum back to the counts")


def check_series(where, family_type, metric, s):
    check(labels_of(metric.label) == s["labels"], f"{where}: labels {labels_of(metric.label)} != {s['labels']}")
    exemplars = s["exemplars"]
    if "counter" in s:
        if not check(metric.HasField("counter"), f"{where}: counter"):
            return
        c = metric.counter
        value = float(int(s["counter"]["integral"])) + num(s["counter"]["fractional"])
        check(same(c.value, value), f"{where}: counter value {c.value} != {value}")
        x = exemplars[0] if exemplars and present(exemplars[0]) else None
        if check(c.HasField("exemplar") == (x is not None), f"{where}: counter exemplar presence"):
            if x is not None:
                check_exemplar(where, c.exemplar, x)
        check_timestamp(where, c, "created_timestamp", num(s["created"]))
    elif "gauge" in s:
        field = "untyped" if family_type == "unknown" else "gauge"
        if check(metric.HasField(field), f"{where}: {field}"):
            got = getattr(metric, field).value
            check(same(got, num(s["gauge"])), f"{where}: {field} value {got} != {s['gauge']}")
        check(not metric.HasField("counter") and not metric.HasField("histogram"), f"{where}: one value only")
    elif "histogram" in s:
        if not check(metric.HasField("histogram"), f"{where}: histogram"):
            return
        h, v = metric.histogram, s["histogram"]
        given = exemplars if len(exemplars) == len(v["bounds"]) + 1 else []
        check_classic(where, h, v["bounds"], v["counts"], given)
        check(same(h.sample_sum, num(v["sum"])), f"{where}: sample_sum {h.sample_sum} != {v['sum']}")
        check(not h.HasField("schema") and len(h.positive_span) == 0, f"{where}: classic only")
        check(len(h.exemplars) == 0, f"{where}: no native exemplars")
        check_timestamp(where, h, "created_timestamp", num(s["created"]))
    else:
        if not check(metric.HasField("histogram"), f"{where}: native histogram"):
            return
        h, n = metric.histogram, s["native"]
        classic = len(n["classic_counts"]) > 0
        if classic:
            given = exemplars if len(exemplars) == len(n["classic_bounds"]) + 1 else []
            check_classic(where, h, n["classic_bounds"], n["classic_counts"], given)
        else:
            given = exemplars
            check(h.sample_count == n["count"], f"{where}: sample_count {h.sample_count} != {n['count']}")
            check(len(h.bucket) == 0, f"{where}: native only: no classic bucket")
        check(same(h.sample_sum, num(n["sum"])), f"{where}: sample_sum {h.sample_sum} != {n['sum']}")
        check(h.HasField("schema") and h.schema == n["schema"], f"{where}: schema {h.schema} != {n['schema']}")
        check(same(h.zero_threshold, num(n["zero_threshold"])), f"{where}: zero_threshold {h.zero_threshold}")
        check(h.zero_count == n["zero_count"], f"{where}: zero_count {h.zero_count} != {n['zero_count']}")
        check_native_side(where, h, "negative_span", "negative_delta", n["negative_spans"], n["negative_counts"])
        positive = n["positive_spans"] if n["positive_spans"] or n["negative_spans"] else [[0, 0]]  # the no-op span
        check_native_side(where, h, "positive_span", "positive_delta", positive, n["positive_counts"])
        check(len(h.positive_count) == 0 and len(h.negative_count) == 0, f"{where}: integer counts only")
        native_x = [x for x in given if present(x) and (not classic or math.isfinite(num(x["timestamp"])))]
        if check(len(h.exemplars) == len(native_x), f"{where}: {len(h.exemplars)} native exemplars != {len(native_x)}"):
            for i, (got, want) in enumerate(zip(h.exemplars, native_x)):
                check_exemplar(f"{where} native exemplar {i}", got, want)
        check_timestamp(where, h, "created_timestamp", num(s["created"]))


def check_stream(pb, label, data, recorded):
    got = decode_stream(pb, data)
    want = sorted((f for f in recorded if f["series"]), key=lambda f: f["name"].encode())
    if not check(len(got) == len(want), f"{label}: {len(got)} families decoded, {len(want)} with series recorded"):
        return 0
    checked = 0
    for mf, f in zip(got, want):
        name = f["name"]
        if f["type"] == "info":
            name = (name[:-len("_info")] if name.endswith("_info") else name) + "_info"
        where = f"{label} {name}"
        check(mf.name == name, f"{where}: name {mf.name!r}")
        check(mf.HasField("help") and mf.help == f["help"], f"{where}: help {mf.help!r} != {f['help']!r}")
        check(mf.type == TYPES[f["type"]], f"{where}: type {mf.type} != {TYPES[f['type']]}")
        want_unit = f["unit"] if f["type"] != "info" else ""
        check(mf.HasField("unit") == bool(want_unit) and mf.unit == want_unit, f"{where}: unit {mf.unit!r}")
        if not check(len(mf.metric) == len(f["series"]), f"{where}: {len(mf.metric)} metrics != {len(f['series'])}"):
            continue
        for i, (metric, s) in enumerate(zip(mf.metric, f["series"])):
            check_series(f"{where}[{i}]", f["type"], metric, s)
            checked += 1
    return checked


def check_exposer(pb, binary):
    proc = subprocess.Popen([binary, "--serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not check("listening on http://127.0.0.1:" in line, f"fixture did not start: {line!r}"):
            return
        port = int(line.strip().rsplit(":", 1)[1])
        facts = json.loads(proc.stdout.readline())

        def get(accept, encoding=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Accept": accept}
            if encoding:
                headers["Accept-Encoding"] = encoding
            c.request("GET", "/metrics", headers=headers)
            r = c.getresponse()
            body = r.read()
            c.close()
            return r.status, r.getheader("Content-Type"), r.getheader("Content-Encoding"), body

        status, ctype, _, plain = get(PROTO_ACCEPT_242)
        check(status == 200 and ctype == PROTO_TYPE + "; escaping=underscores", f"exposer: {status} {ctype}")
        status, ctype, enc, zipped = get(PROTO_ACCEPT_242, "gzip")
        check(status == 200 and enc == "gzip", f"exposer gzip: {status} {enc}")
        check(enc != "gzip" or gzip.decompress(zipped) == plain, "gzip body decompresses to the plain one")
        families = {mf.name: mf for mf in decode_stream(pb, plain)}
        fine = families.get("fx_latency_seconds")
        if check(fine is not None, f"served families: {sorted(families)}"):
            h = fine.metric[0].histogram
            check(h.sample_count == facts["count"] and same(h.sample_sum, num(facts["sum"])), "served count and sum")
            check(h.schema == facts["fine_schema"] and sum(s.length for s in h.positive_span) == facts["fine_buckets"],
                  "served schema and buckets")
        empty = families.get("fx_empty_seconds")
        if check(empty is not None, "the empty native histogram is served"):
            spans = [(s.offset, s.length) for s in empty.metric[0].histogram.positive_span]
            check(spans == [(0, 0)], f"empty native histogram: no-op span, got {spans}")
        # Without protobuf preferred, nothing changes.
        status, ctype, _, text = get("text/plain;version=0.0.4;q=1,*/*;q=0.1")
        check(ctype.startswith("text/plain; version=0.0.4") and b'fx_latency_seconds_count{case="fine"} 20000' in text,
              f"text scrape: {ctype}")
    finally:
        stop_process(proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "protobuf_fixture")
    tmp = tempfile.mkdtemp(prefix="llmetrics-protobuf-")
    try:
        pb = load_schema(tmp)
        total = 0
        for seed in (1, 2, 3):
            out = os.path.join(tmp, f"seed{seed}")
            os.makedirs(out)
            subprocess.run([binary, "--write", out, "--seed", str(seed), "--random", "150"], check=True, timeout=60)
            for stem in (("fixed", "random") if seed == 1 else ("random",)):
                with open(os.path.join(out, stem + ".bin"), "rb") as f:
                    data = f.read()
                with open(os.path.join(out, stem + ".json")) as f:
                    recorded = json.load(f)
                total += check_stream(pb, f"{stem} (seed {seed})", data, recorded)
        check(total > 500, f"only {total} series compared")
        print(f"{total} series decoded and compared")
        check_exposer(pb, binary)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("protobuf exposition: every field decodes as recorded")


if __name__ == "__main__":
    sys.exit(main())
