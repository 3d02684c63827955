"""HTTP load and latency figures: closed loop (N clients back to back) and open loop
(a fixed arrival rate, so slow answers cannot hide latency)."""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Run:
    latencies: list[float]  # seconds
    elapsed: float
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


class Client:
    """One keep-alive connection (gunicorn's sync workers close it: it reconnects, as a browser would)."""

    def __init__(self, base_url: str, headers: dict):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = headers
        self.conn = None

    def request(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                try:
                    return response.status, (json.loads(data) if data else None)
                except ValueError:
                    return response.status, {"text": data.decode(errors="replace")[:500]}
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def in_parallel(threads: int, total: int, make_worker) -> Run:
    """``threads`` threads share calls 0..total-1; ``make_worker()`` gives each thread its own function
    of the call number, which returns (seconds the call took, whether it failed)."""
    latencies, errors, lock = [], [0], threading.Lock()
    counter = iter(range(total))

    def thread_main():
        call = make_worker()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            took, failed = call(i)
            with lock:
                latencies.append(took)
                errors[0] += failed

    threads_ = [threading.Thread(target=thread_main) for _ in range(threads)]
    started = time.perf_counter()
    for thread in threads_:
        thread.start()
    for thread in threads_:
        thread.join()
    return Run(latencies, time.perf_counter() - started, errors[0])


def closed_loop(base_url: str, headers: dict, clients: int, total: int, make_request) -> Run:
    """``clients`` threads send ``total`` requests back to back; make_request(i) -> (method, path, body)."""
    def make_worker():
        client = Client(base_url, headers)

        def call(i):
            method, path, body = make_request(i)
            started = time.perf_counter()
            status, _ = client.request(method, path, body)
            return time.perf_counter() - started, status >= 400
        return call

    return in_parallel(clients, total, make_worker)


def open_loop(base_url: str, headers: dict, rate: float, seconds: float, make_request, on_answer=None,
              max_clients: int = 64) -> Run:
    """Start request i at i/rate seconds whatever the answers take (a pool of connections sends them);
    latency counts from the scheduled start, so queueing shows."""
    origin = time.perf_counter() + 0.2

    def make_worker():
        client = Client(base_url, headers)

        def call(i):
            due = origin + i / rate
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            method, path, body = make_request(i)
            sent_wall = time.time()
            status, answer = client.request(method, path, body)
            if on_answer is not None and status < 400:
                on_answer(answer, sent_wall, time.time())
            return time.perf_counter() - due, status >= 400
        return call

    run = in_parallel(max_clients, int(rate * seconds), make_worker)
    run.elapsed = time.perf_counter() - origin
    return run


def sample(client: Client, paths: list[str]) -> Run:
    """Sequential GETs (one staff member clicking), each timed."""
    latencies, errors = [], 0
    started = time.perf_counter()
    for path in paths:
        t = time.perf_counter()
        status, _ = client.request("GET", path)
        latencies.append(time.perf_counter() - t)
        errors += status >= 400
    return Run(latencies, time.perf_counter() - started, errors)
