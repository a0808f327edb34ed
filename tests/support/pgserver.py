"""A throwaway PostgreSQL server for one test session (TOOLCHAIN.md: initdb + pg_ctl
on a free loopback port; PostgreSQL refuses to run as root, so as root it runs as
the ``postgres`` user).

Under pytest-xdist every worker starts its own server (``label`` names the worker in
the directory, so a leftover one can be traced): its own data directory and socket
directory under ``/tmp`` and its own port. Two workers can be handed the same free port
(``_free_port`` releases it before PostgreSQL binds it), so ``start`` retries on a new
port when the server cannot bind."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg


def find_pg_bin() -> Path | None:
    explicit = os.environ.get("PORTAL_PG_BIN")
    if explicit:
        return Path(explicit)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    START_ATTEMPTS = 5

    def __init__(self, pg_bin: Path, label: str = "main"):
        self.pg_bin = pg_bin
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        # Not under pytest's basetemp: that is root-only (0700), and the server runs as postgres.
        self.base = Path(tempfile.mkdtemp(prefix=f"portal-pg-{label}-"))
        self.data = self.base / "data"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> ThrowawayPostgres:
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        os.chmod(self.base, 0o700)
        self._run(str(self.pg_bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C")
        for attempt in range(1, self.START_ATTEMPTS + 1):
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off " \
                      "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            (self.base / "log").unlink(missing_ok=True)  # only this attempt's messages count
            try:
                self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.base / "log"),
                          "-o", options, "start")
                return self
            except subprocess.CalledProcessError as exc:
                log = self._log()
                if attempt < self.START_ATTEMPTS and ("Address already in use" in log or "could not bind" in log):
                    self.port = _free_port()  # another process took the port first: try a new one
                    continue
                shutil.rmtree(self.base, ignore_errors=True)
                raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log[-2000:]}") from exc
        raise AssertionError("unreachable")

    def _log(self) -> str:
        try:
            return (self.base / "log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def create_database(self, name: str) -> str:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
