"""What the integration tests share: failure bookkeeping, free ports, stopping servers,
reading their memory.

Each test script runs as `python3 test_x.py --bin-dir ...`, so this module is
found next to it. A script records checks with check(), and returns
exit_status() from main().
"""

import socket
import subprocess

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
