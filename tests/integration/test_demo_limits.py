#!/usr/bin/python3
"""llmetrics-demo --listen's limit flags take effect (issue 12, point 4).

Starts `llmetrics-demo --listen 127.0.0.1:0` with non-default values of every
limit flag and sees each one act: --max-header-bytes (a header the default would
take gets 431), --max-body-bytes (413), --header-timeout, --body-timeout and
--idle-timeout (a silent, a half-sent-body and a keep-alive connection are closed
about when told, and counted by reason in llmetrics_http_connections_closed_total),
--max-connections (never more open, the rest evicted, scrapes still answered).
--write-timeout is accepted and shown in --help (the unit tests check the
deadline itself). Bad values end the program with status 2 and a message naming
the flag, never a crash; --help describes every flag.

Usage: /usr/bin/python3 test_demo_limits.py --bin-dir <build>/bin
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

from support import check, exit_status, stop_process

FLAGS = ["--max-connections", "--max-header-bytes", "--max-body-bytes", "--header-timeout", "--body-timeout",
         "--idle-timeout", "--write-timeout"]


def request(port, raw, timeout=5.0):
    """Sends `raw` on a new connection, reads until the server closes; (status, body)."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(raw)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    if len(data) < 12:
        return 0, b""
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


def closes_after(port, raw, read_response=False, limit_s=5.0):
    """Seconds until the server closes a connection that sent `raw` (after reading
    one response when asked); None if it stays open past `limit_s`."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit_s) as s:
        if raw:
            s.sendall(raw)
        start = time.monotonic()
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if read_response and b"\r\n\r\n" in got:
                    start = time.monotonic()  # the keep-alive wait starts with the response
                    read_response = False
        except socket.timeout:
            return None
        except OSError:
            pass
        return time.monotonic() - start


def closed_counts(port):
    status, body = request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    counts = {}
    for line in body.decode().splitlines():
        if line.startswith("llmetrics_http_connections_closed_total{") or line.startswith(
                "llm_router_llmetrics_http_connections_closed_total{"):
            counts[line.split('reason="', 1)[1].split('"', 1)[0]] = float(line.rsplit(" ", 1)[1])
        if line.startswith("llmetrics_http_open_connections "):
            counts["open"] = float(line.rsplit(" ", 1)[1])
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    binary = os.path.join(args.bin_dir, "llmetrics-demo")

    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    for flag in FLAGS:
        line = next((l for l in help_text.splitlines() if l.strip().startswith(flag + " ")), "")
        check("default" in line, f"--help describes {flag} and its default: {line!r}")

    for bad in (["--max-connections", "0"], ["--header-timeout", "abc"], ["--idle-timeout", "-5"],
                ["--max-body-bytes", "99999999999999999999"], ["--max-header-bytes", "12"], ["--write-timeout"],
                ["--body-timeout=1.5"]):
        r = subprocess.run([binary, "--listen", "127.0.0.1:0", *bad], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and bad[0].split("=")[0] in r.stderr and "llmetrics-demo: " in r.stderr,
              f"{bad}: status 2 and a message naming the flag, got {r.returncode}: {r.stderr.strip()!r}")

    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--failure-rate", "0", "--max-connections", "4",
                             "--max-header-bytes", "1024", "--max-body-bytes", "200", "--header-timeout", "300",
                             "--body-timeout", "300", "--idle-timeout", "400", "--write-timeout", "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        check("listening on http://" in line, f"the demo started: {line!r}")
        port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))

        def get(extra_header=""):
            return request(port, f"GET /metrics HTTP/1.1\r\nHost: x\r\n{extra_header}Connection: close\r\n\r\n".encode())

        check(get("X-Pad: " + "a" * 500 + "\r\n")[0] == 200, "a 500-byte header is served")
        check(get("X-Pad: " + "a" * 2000 + "\r\n")[0] == 431, "--max-header-bytes 1024: a 2000-byte header gets 431")

        def chat(size):
            body = json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": "x" * size}]}).encode()
            head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            return request(port, head + body)[0]

        check(chat(100) == 200, "a 150-byte chat body is answered")
        check(chat(300) == 413, "--max-body-bytes 200: a 350-byte body gets 413")

        before = closed_counts(port)
        t = closes_after(port, b"")
        check(t is not None and 0.2 <= t < 2.0, f"--header-timeout 300: a silent connection closed after {t} s")
        t = closes_after(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        check(t is not None and 0.2 <= t < 2.0, f"--header-timeout 300: a partial header closed after {t} s")
        t = closes_after(port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        check(t is not None and 0.2 <= t < 2.0, f"--body-timeout 300: a half-sent body closed after {t} s")
        t = closes_after(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", read_response=True)
        check(t is not None and 0.3 <= t < 2.5, f"--idle-timeout 400: a keep-alive connection closed after {t} s")
        time.sleep(0.2)  # a client may see the close a moment before the server counts it
        after = closed_counts(port)
        for reason, n in (("header_timeout", 2), ("body_timeout", 1), ("idle_timeout", 1)):
            check(after.get(reason, 0) - before.get(reason, 0) == n,
                  f"{reason} counted {n} time(s): {before} -> {after}")

        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
        try:
            time.sleep(0.1)
            during = closed_counts(port)
            check(during.get("open", 99) <= 4, f"--max-connections 4: {during.get('open')} open")
            evicted = during.get("evicted_idle", 0) - after.get("evicted_idle", 0)
            check(evicted >= 8, f"--max-connections 4: 12 silent connections and a scrape evicted {evicted}")
        finally:
            for s in held:
                s.close()
        check(proc.poll() is None, "the demo is still running")
    finally:
        stop_process(proc)
    return exit_status("demo limit flags: all took effect")


if __name__ == "__main__":
    sys.exit(main())
