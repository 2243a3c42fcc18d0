"""A throwaway PostgreSQL cluster for one benchmark run.

initdb + pg_ctl in a temp dir on a free loopback port. When the harness runs as root, the
server runs as the `postgres` system user (PostgreSQL refuses root). The cluster logs in CSV so
that the exact statements graft sends (and their bind parameters) can be read back when
`log_statement = all` is switched on for a moment; see `capture_statements`.
"""

from __future__ import annotations

import csv
import gzip
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PgError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_user() -> str | None:
    """The user to run PostgreSQL as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as error:
        raise PgError("running as root but there is no `postgres` user to run PostgreSQL as") from error
    return "postgres"


@dataclass
class Statement:
    """One statement as the server logged it: SQL text and bind parameters ($1..$n, text)."""

    sql: str
    params: list[str | None]


class Cluster:
    def __init__(self, max_connections: int = 300, extra_settings: dict[str, str] | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="graft-bench-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = free_port()
        self.user = _pg_user()
        self.max_connections = max_connections
        self.extra_settings = extra_settings or {}
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(args, user=self.user, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> None:
        self.sock.mkdir(parents=True)
        if self.user:
            shutil.chown(self.root, self.user, self.user)
            shutil.chown(self.sock, self.user, self.user)
        self._run(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-sync"])
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sock}'",
            "max_connections": str(self.max_connections),
            "shared_buffers": "'256MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "on",
            "log_destination": "'csvlog'",
            "log_directory": "'log'",
            "log_filename": "'pg.log'",
            "log_statement": "'none'",
            **self.extra_settings,
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# graft bench\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.root / "startup.log"), "-w",
                   "-t", "60", "start"])
        self.running = True

    def stop(self) -> None:
        if self.running:
            subprocess.run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], user=self.user,
                           capture_output=True, check=False)
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def postmaster_pid(self) -> int:
        with open(self.data / "postmaster.pid", encoding="ascii") as file:
            return int(file.readline())

    def psql(self, sql: str | None = None, file: Path | None = None, stdin: bytes | None = None,
             client_encoding: str = "UTF8") -> str:
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres", "-d", "postgres", "-At"]
        if sql is not None:
            args += ["-c", sql]
        if file is not None:
            args += ["-f", str(file)]
        env = dict(os.environ, PGCLIENTENCODING=client_encoding)
        done = subprocess.run(args, input=stdin, capture_output=True, check=False, env=env)
        if done.returncode != 0:
            raise PgError(f"psql failed: {done.stderr.decode(errors='replace').strip()[:2000]}")
        return done.stdout.decode()

    def load_gzipped_sql(self, path: Path) -> None:
        # Hasura's Chinook dump is in Windows-1252 (e.g. "Antônio" is one byte 0xF4).
        with gzip.open(path, "rb") as dump:
            self.psql(stdin=dump.read(), client_encoding="WIN1252")
        self.psql("VACUUM ANALYZE")

    # --- statement capture -------------------------------------------------------------------

    def _csv_log(self) -> Path:
        return self.data / "log" / "pg.csv"

    def log_offset(self) -> int:
        path = self._csv_log()
        return path.stat().st_size if path.exists() else 0

    def set_log_statements(self, enabled: bool) -> None:
        value = "all" if enabled else "none"
        self.psql(f"ALTER SYSTEM SET log_statement = '{value}'")
        self.psql("SELECT pg_reload_conf()")
        time.sleep(0.3)

    def capture_statements(self, since: int) -> list[Statement]:
        """Statements executed (extended protocol: `execute <name>: ...`, or simple `statement:`)
        since the given log offset, with their bind parameters from the DETAIL field."""
        # The collector writes asynchronously: give it a moment.
        time.sleep(0.5)
        # A 10,000-row insert logs its objects as one bind parameter of about 1 MB.
        csv.field_size_limit(sys.maxsize)
        with open(self._csv_log(), "r", encoding="utf-8", newline="") as log:
            log.seek(since)
            rows = list(csv.reader(log))
        statements: list[Statement] = []
        for row in rows:
            if len(row) < 15:
                continue
            message, detail = row[13], row[14]
            match = re.match(r"(?s)execute [^:]*: (.*)", message)
            if match:
                statements.append(Statement(match.group(1), parse_params(detail)))
                continue
            match = re.match(r"(?s)statement: (.*)", message)
            if match:
                statements.append(Statement(match.group(1), []))
        return statements


def parse_params(detail: str) -> list[str | None]:
    """`parameters: $1 = '...', $2 = NULL` -> ['...', None]; quotes inside values are doubled."""
    params: dict[int, str | None] = {}
    for match in re.finditer(r"\$(\d+) = (NULL|'((?:[^']|'')*)')", detail):
        index = int(match.group(1))
        params[index] = None if match.group(2) == "NULL" else match.group(3).replace("''", "'")
    return [params.get(i) for i in range(1, max(params, default=0) + 1)]
