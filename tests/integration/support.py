"""What the integration tests share: failure bookkeeping, free ports, stopping servers,
reading their memory.

Each test script runs as `python3 test_x.py --bin-dir ...`, so this module is
found next to it. A script records checks with check(), and returns
exit_status() from main().
"""

import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

failures = []


def check(condition, message):
    """Records (and prints at once) a failed check; returns the condition."""
    if not condition:
        failures.append(message)
        print("FAIL:", str(message)[:2000])
    return condition


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exit_status(passed_message):
    """0 and `passed_message` when no check failed, else 1 and a count."""
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print(passed_message)
    return 0


def stop_process(proc, timeout=10):
    """Asks a server we started to stop (SIGTERM), kills it after `timeout` s, and reaps it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mb(pid):
    """Resident memory of process `pid` in MB (VmRSS); raises if the process is gone."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url, deadline_s=30, proc=None):
    """Polls url until it answers 200; False if proc exits first or time runs out."""
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def prom_query(base, query):
    """The result list of an instant PromQL query against the Prometheus at base."""
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    if data.get("status") != "success":
        raise RuntimeError(f"query failed: {data}")
    return data["data"]["result"]


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing: the tests print what they check."""

    def log_message(self, *args):
        pass


class BackgroundHTTPServer:
    """Serves `handler` on a free 127.0.0.1 port from a daemon thread until stop()."""

    def __init__(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """A real `prometheus` started on a free (or the given) 127.0.0.1 port. Its
    configuration (`config`, YAML text), storage and log live in `tmp` under `name`;
    `extra` are more flags (an agent, `--enable-feature=agent`, stores in agent mode)."""

    def __init__(self, binary, tmp, name="prometheus", port=None, config="", extra=()):
        self.binary, self.tmp, self.name, self.extra = binary, tmp, name, list(extra)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = os.path.join(tmp, f"{name}.yml")
        with open(self.config, "w") as f:
            f.write(config or "global:\n  scrape_interval: 1s\n")
        self.proc = None
        self.start()

    def start(self):
        """Starts it (again, after stop(): same port, same storage)."""
        storage = "--storage.agent.path" if "--enable-feature=agent" in self.extra else "--storage.tsdb.path"
        self.log = open(os.path.join(self.tmp, f"{self.name}.log"), "a")
        self.proc = subprocess.Popen([self.binary, f"--config.file={self.config}", f"{storage}={self.tmp}/{self.name}",
                                      f"--web.listen-address=127.0.0.1:{self.port}", *self.extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.tmp)

    def ready(self, url=None, deadline_s=60):
        """True once /-/ready (or url) answers 200; False if it exits or time runs out."""
        return wait_http(url or self.base + "/-/ready", deadline_s, self.proc)

    def query(self, q):
        return prom_query(self.base, q)

    def log_tail(self, n=3000):
        with open(self.log.name, errors="replace") as f:
            return f.read()[-n:]

    def stop(self, timeout=20):
        stop_process(self.proc, timeout)
        self.log.close()
