"""Timing and reporting helpers shared by the benchmarks."""
from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_ms(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class Report:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, name: str, value: float, target: float | None, unit: str = "ms", better: str = "lower") -> None:
        self.rows[name] = {"value": round(value, 3), "unit": unit, "target": target, "better": better}

    def add_samples(self, name: str, samples: list[float], p95_target: float | None) -> None:
        self.add(f"{name} p50", statistics.median(samples), None)
        self.add(f"{name} p95", percentile(samples, 95), p95_target)

    def print_rows(self) -> None:
        """The figures, without touching bench/results.json (a quick look at one benchmark)."""
        for name, row in self.rows.items():
            print(f"{name:<60}{row['value']:>12.1f} {row['unit']}  target {row['target']}")

    def print_and_save(self) -> None:
        width = max(len(n) for n in self.rows) + 2
        print(f"{'figure':<{width}}{'value':>12}  {'unit':<6}{'target':>10}  ok")
        for name, row in self.rows.items():
            target = row["target"]
            ok = "" if target is None else ("yes" if (row["value"] <= target if row["better"] == "lower"
                                                      else row["value"] >= target) else "NO")
            print(f"{name:<{width}}{row['value']:>12.3f}  {row['unit']:<6}{'' if target is None else target:>10}  {ok}")
        existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        existing.update(self.rows)
        RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
        print(f"\nwritten to {RESULTS}")


DATABASES = ("sqlite", "postgresql")


def each_database(databases: tuple[str, ...] = DATABASES) -> Iterator[tuple[str, Callable[[str], str]]]:
    """``(label, new_url)`` for SQLite (files in a temporary folder) and, when its binaries
    are present, a throwaway PostgreSQL server: ``new_url(name)`` gives a fresh, empty
    database each call. Everything is removed when the loop moves on."""
    import tempfile

    if "sqlite" in databases:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            yield "sqlite", lambda name: f"sqlite:///{Path(tmp) / name}.db"
    if "postgresql" not in databases:
        return
    from tests.support.pgserver import ThrowawayPostgres, find_pg_bin

    pg_bin = find_pg_bin()
    if pg_bin is None:
        return
    server = ThrowawayPostgres(pg_bin).start()
    try:
        yield "postgresql", server.create_database
    finally:
        server.stop()


@contextmanager
def gunicorn(url: str, workers: int = 4, timeout: int = 30, **env: str) -> Iterator[int]:
    """gunicorn serving ``wsgi:app`` on ``url``'s database from a free loopback port, as
    production runs it (PORTAL_ENV=production; gunicorn's default 30 s timeout unless told),
    with the sign-in limit raised for the bench's clients and ``env`` added; yields the port
    once it accepts connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": "bench-" + "k" * 40, "DATABASE_URL": url,
                   "PORTAL_SIGNIN_RATE_LIMIT": "1000 per minute", **env}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                               f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning", "--timeout", str(timeout),
                               "wsgi:app"], cwd=Path(__file__).resolve().parent.parent, env=environment)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
