#!/usr/bin/python3
"""The Pushgateway client against a real prometheus-pushgateway.

Starts `prometheus-pushgateway` on a free 127.0.0.1 port in a temp dir, with
`--persistence.file=` (Debian's default persists to /var/lib/prometheus),
drives programs/push_fixture to push (PUT), push_add (POST) and delete groups
whose grouping key holds a value with '/', an empty value and a job name
with '/', reads the values back from the gateway's /metrics with
prometheus_client's parser and compares them exactly; then checks that a gateway
that refuses a push (HTTP 400), a wrong path (404) and an unreachable address
each give llmetrics::pushgateway_error with the right status. A push in the
protobuf format (pushgateway_options::push_format) with a native histogram is
read back both ways: as text, and as protobuf decoded with python3-protobuf
(test_protobuf.py's schema), native buckets included.

Usage: /usr/bin/python3 test_pushgateway.py --bin-dir <build>/bin
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from support import check, exit_status, free_port, stop_process
from test_protobuf import PROTO_ACCEPT_242, decode_stream, load_schema


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def samples(base):
    """{(name, frozenset(labels.items())): value} of every pushed sample."""
    _, text = http_get(base + "/metrics")
    out = {}
    for family in parse_prometheus(text):
        for s in family.samples:
            if "job" in s.labels:
                out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def key(name, **labels):
    return (name, frozenset(labels.items()))


class Fixture:
    def __init__(self, binary, url):
        self.binary, self.url = binary, url

    def run(self, *args, url=None):
        cmd = [self.binary, "--url", url or self.url, *args]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "push_fixture")
    gateway = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if not gateway:
        print("prometheus-pushgateway is not installed (scripts/install-deps.sh installs it)")
        return 1

    tmp = tempfile.mkdtemp(prefix="llmetrics-pgw-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "pushgateway.log"), "w")
    proc = subprocess.Popen([gateway, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="], cwd=tmp,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                if http_get(base + "/-/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                print("pushgateway did not start; log:\n" + open(log.name).read())
                return 1
            time.sleep(0.1)

        fx = Fixture(binary, base)
        group_a = dict(job="nightly/import", instance="host-1", path="/var/tmp/x", empty="")
        args_a = ["--job", "nightly/import", "--group", "instance=host-1", "--group", "path=/var/tmp/x",
                  "--group", "empty="]
        hostile = 'q"uo\\te, spa ce/slash ü'
        group_b = dict(job="plain", instance="", tenant=hostile)  # the gateway adds instance=""
        args_b = ["--job", "plain", "--group", f"tenant={hostile}"]

        # --- push (PUT): the whole registry lands under the grouping key ---------
        rc, out, err = fx.run(*args_a, "--op", "push", "--counter", "5", "--gauge", "2.5",
                              "--observe", "0.3", "--observe", "2")
        check(rc == 0, f"push A: rc={rc} {err}")
        check(out.strip() == "/metrics/job@base64/bmlnaHRseS9pbXBvcnQ=/instance/host-1/"
              "path@base64/L3Zhci90bXAveA==/empty@base64/=", f"push A path: {out!r}")
        rc, out, err = fx.run(*args_b, "--op", "push", "--counter", "11", "--gauge", "-1.25e-3")
        check(rc == 0, f"push B: rc={rc} {err}")

        s = samples(base)
        check(s.get(key("push_fixture_runs_total", kind="a", **group_a)) == 5.0, "A counter kind=a == 5")
        check(s.get(key("push_fixture_runs_total", kind="b", **group_a)) == 1.0, "A counter kind=b == 1")
        check(s.get(key("push_fixture_last_value", stage="load", **group_a)) == 2.5, "A gauge == 2.5")
        check(s.get(key("push_fixture_duration_seconds_bucket", le="0.5", **group_a)) == 1.0, "A bucket 0.5")
        check(s.get(key("push_fixture_duration_seconds_bucket", le="2.5", **group_a)) == 2.0, "A bucket 2.5")
        check(s.get(key("push_fixture_duration_seconds_bucket", le="+Inf", **group_a)) == 2.0, "A bucket +Inf")
        check(s.get(key("push_fixture_duration_seconds_count", **group_a)) == 2.0, "A count")
        check(s.get(key("push_fixture_duration_seconds_sum", **group_a)) == 2.3, "A sum")
        check(s.get(key("push_fixture_runs_total", kind="a", **group_b)) == 11.0,
              "B counter with hostile grouping value == 11")
        check(s.get(key("push_fixture_last_value", stage="load", **group_b)) == -1.25e-3, "B gauge")

        # --- push_add (POST): replaces only the families pushed ------------------
        rc, _, err = fx.run(*args_a, "--op", "push_add", "--only-gauge", "--gauge", "7.25")
        check(rc == 0, f"push_add A: rc={rc} {err}")
        s = samples(base)
        check(s.get(key("push_fixture_last_value", stage="load", **group_a)) == 7.25, "A gauge after push_add")
        check(s.get(key("push_fixture_runs_total", kind="a", **group_a)) == 5.0, "A counter kept by push_add")
        check(s.get(key("push_fixture_duration_seconds_count", **group_a)) == 2.0, "A histogram kept by push_add")

        # --- push (PUT) again: replaces the whole group ----------------------------
        rc, _, err = fx.run(*args_a, "--op", "push", "--only-gauge", "--gauge", "1")
        check(rc == 0, f"push A gauge-only: rc={rc} {err}")
        s = samples(base)
        check(s.get(key("push_fixture_last_value", stage="load", **group_a)) == 1.0, "A gauge after PUT")
        check(key("push_fixture_runs_total", kind="a", **group_a) not in s, "A counter gone after PUT")
        check(s.get(key("push_fixture_runs_total", kind="a", **group_b)) == 11.0, "B untouched by A's PUT")

        # --- delete: the group goes, others stay -----------------------------------
        rc, _, err = fx.run(*args_a, "--op", "delete")
        check(rc == 0, f"delete A: rc={rc} {err}")
        s = samples(base)
        check(not any(dict(k[1]).get("job") == "nightly/import" for k in s), "A gone after delete")
        check(s.get(key("push_fixture_runs_total", kind="a", **group_b)) == 11.0, "B kept after deleting A")

        # --- protobuf (PUT), a native histogram included ---------------------------
        group_c = dict(job="proto", instance="", tenant=hostile)
        rc, _, err = fx.run("--job", "proto", "--group", f"tenant={hostile}", "--op", "push", "--protobuf", "--native",
                            "--counter", "9", "--gauge", "0.1", "--observe", "0.3", "--observe", "4")
        check(rc == 0, f"protobuf push C: rc={rc} {err}")
        s = samples(base)
        check(s.get(key("push_fixture_runs_total", kind="a", **group_c)) == 9.0, "C (protobuf) counter == 9")
        check(s.get(key("push_fixture_last_value", stage="load", **group_c)) == 0.1, "C (protobuf) gauge == 0.1")
        check(s.get(key("push_fixture_duration_seconds_bucket", le="0.5", **group_c)) == 1.0, "C bucket 0.5")
        check(s.get(key("push_fixture_duration_seconds_count", **group_c)) == 2.0, "C count")
        check(s.get(key("push_fixture_duration_seconds_sum", **group_c)) == 4.3, "C sum")
        pb = load_schema(tmp)
        req = urllib.request.Request(base + "/metrics", headers={"Accept": PROTO_ACCEPT_242})
        with urllib.request.urlopen(req, timeout=5) as r:
            check(r.headers.get("Content-Type", "").startswith("application/vnd.google.protobuf"),
                  f"the gateway answers protobuf: {r.headers.get('Content-Type')}")
            families = {mf.name: mf for mf in decode_stream(pb, r.read())}
        native = [m for m in families.get("push_fixture_native_seconds", pb.MetricFamily()).metric
                  if {(l.name, l.value) for l in m.label} >= {("job", "proto"), ("tenant", hostile)}]
        if check(len(native) == 1, f"the native histogram reached the gateway: {sorted(families)[:8]}"):
            h = native[0].histogram
            check(h.sample_count == 5 and h.sample_sum == 7.5 and h.schema == 0, f"native count/sum/schema: {h}")
            check([(sp.offset, sp.length) for sp in h.positive_span] == [(0, 2)] and list(h.positive_delta) == [2, 1],
                  f"native spans and deltas kept: {list(h.positive_span)} {list(h.positive_delta)}")
        rc, _, err = fx.run("--job", "proto", "--group", f"tenant={hostile}", "--op", "delete")
        check(rc == 0, f"delete C: rc={rc} {err}")

        # --- failures give pushgateway_error with the status ----------------------
        rc, _, err = fx.run("--job", "dup", "--group", "kind=zzz", "--op", "push")
        check(rc == 3 and "status=400" in err and "inconsistent" in err,
              f"rejected push -> status 400: rc={rc} {err.strip()}")
        rc, _, err = fx.run("--job", "x", url=base + "/no/such/prefix")
        check(rc == 3 and "status=404" in err, f"wrong path -> status 404: rc={rc} {err.strip()}")
        rc, _, err = fx.run("--job", "x", url=f"http://127.0.0.1:{free_port()}")
        check(rc == 3 and "status=0" in err and "refused" in err.lower(),
              f"unreachable -> status 0: rc={rc} {err.strip()}")
        rc, _, err = fx.run("--job", "", "--op", "push")
        check(rc == 2 and "job name" in err, f"empty job -> invalid_argument: rc={rc} {err.strip()}")
        # A gateway that accepts the connection and never answers: the timeout holds.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            t0 = time.time()
            rc, _, err = fx.run("--job", "x", "--timeout-ms", "300", url=f"http://127.0.0.1:{silent.getsockname()[1]}")
            took = time.time() - t0
        check(rc == 3 and "status=0" in err and "no answer within 300 ms" in err,
              f"silent gateway -> timeout error: rc={rc} {err.strip()}")
        check(took < 5, f"silent gateway: the client gave up after {took:.1f} s")
    finally:
        stop_process(proc)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    return exit_status("pushgateway: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
