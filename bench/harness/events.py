"""bench/run-events: event-trigger delivery, from commit to webhook receipt.

A throwaway PostgreSQL, `target/release/graft serve`, a table `bench_events` with an insert
event trigger, and a webhook receiver (`event_receiver.py`, its own process) that notes when
each event arrived. Every row carries `t_insert = extract(epoch from clock_timestamp())`, set by
the inserting statement just before its (fsync-off) commit, so receive - t_insert is the
end-to-end latency on one machine clock.

Phases, each with a fresh graft process (tuning is read from the environment at start):
- throughput: N rows committed by psql in transactions of B rows, as fast as PostgreSQL takes
  them; events/s = N / (last receipt - first row's t_insert);
- latency: pgbench inserts one row per transaction at a fixed rate (Poisson schedule) for S
  seconds; p50 / p99 / max of receive - t_insert, first receipt of each row.
Each phase checks that every row committed in it was delivered and counts duplicate calls, and
reads CPU time (graft, the receiver, PostgreSQL's whole process tree) and graft's memory from
/proc. Hasura cannot run here (no Docker), so there is no peer.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from . import peers, report
from .pg import Cluster, PgError, free_port

RESULTS_DIR = peers.BENCH_DIR / "results"
ADMIN = {"X-Hasura-Admin-Secret": "my-secret"}

# (name, environment) of the graft configurations measured.
THROUGHPUT_TUNINGS = [
    ("default (batch 100, HTTP pool 100, interval 1000 ms)", {}),
    ("batch 1000, HTTP pool 200, interval 1000 ms",
     {"HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE": "1000", "HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE": "200"}),
]
LATENCY_TUNINGS = [
    ("default (interval 1000 ms)", {}),
    ("interval 100 ms", {"HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "100"}),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run-events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="rows of a throughput phase (10000)")
    parser.add_argument("--batch", type=int, default=100, help="rows per transaction there (100)")
    parser.add_argument("--rates", default="100,500", help="rows/s of the latency phases (100,500)")
    parser.add_argument("--seconds", type=int, default=20, help="length of a latency phase (20)")
    parser.add_argument("--pool-size", type=int, default=50, help="graft's --pg-connections (50)")
    parser.add_argument("--only", choices=["throughput", "latency"], help="run one kind of phase")
    parser.add_argument("--skip-build", action="store_true", help="use target/release/graft as it is")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    return parser.parse_args(argv)


# --- processes ------------------------------------------------------------------------------

def postmaster_cpu_seconds(cluster: Cluster) -> float:
    """CPU of PostgreSQL: every live process under the postmaster, plus what the postmaster has
    reaped from exited backends (pgbench's connections end with their run)."""
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = peers.cpu_seconds(pid)
    with open(f"/proc/{pid}/stat", encoding="ascii") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return total + (int(fields[13]) + int(fields[14])) / peers.CLK_TCK


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of one process, MiB."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as file:
        for line in file:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


class Receiver:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        script = Path(__file__).resolve().parent / "event_receiver.py"
        self.log = open(workdir / "receiver.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([sys.executable, str(script), str(self.port)],
                                        stdout=subprocess.PIPE, stderr=self.log)
        line = self.process.stdout.readline() if self.process.stdout else b""
        if line.strip() != b"ready":
            raise peers.PeerError(f"the webhook receiver did not start: {line!r}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def get(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        peers.post_json(f"http://127.0.0.1:{self.port}/reset", b"", {})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


def start_graft(cluster: Cluster, workdir: Path, env: dict[str, str], pool_size: int) -> peers.Server:
    server = peers.Server(name="graft", label="graft", flavor="graft")
    server.port = free_port()
    binary = peers.REPO_DIR / "target" / "release" / "graft"
    peers._spawn(server, [str(binary), "serve", "--database-url", cluster.url, "--server-host", "127.0.0.1",
                          "--server-port", str(server.port), "--admin-secret", "my-secret",
                          "--log-level", "warn", "--pg-connections", str(pool_size)],
                 cwd=workdir, env=env, workdir=workdir)

    def healthy() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2) as response:
            return response.status == 200

    peers._wait_ready(server, healthy, 60)
    return server


def metadata(server: peers.Server, body: dict) -> None:
    status, answer = peers.post_json(f"http://127.0.0.1:{server.port}/v1/metadata", json.dumps(body).encode(),
                                     ADMIN)
    if status != 200:
        raise peers.PeerError(f"{body['type']} failed ({status}): {answer[:500]!r}")


# --- phases ---------------------------------------------------------------------------------

def wait_delivered(receiver: Receiver, expected: int, timeout: float) -> tuple[bool, float]:
    """Polls the receiver until it has at least `expected` calls. Returns (done, when)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiver.get("/count") >= expected:
            return True, time.time()
        time.sleep(0.05)
    return False, time.time()


def run_phase(cluster: Cluster, server: peers.Server, receiver: Receiver, write, timeout: float) -> dict:
    """Runs `write()` (which commits rows), waits for their events, and checks them."""
    receiver.reset()
    before_id = int(cluster.psql("SELECT coalesce(max(id), 0) FROM bench_events").strip())
    load_before = peers.load_average()
    cpu_before = {"graft": peers.cpu_seconds(server.pid), "receiver": peers.cpu_seconds(receiver.process.pid),
                  "postgres": postmaster_cpu_seconds(cluster)}
    wall_before = time.time()
    writer = write()
    rows = cluster.psql(f"SELECT id, t_insert FROM bench_events WHERE id > {before_id} ORDER BY id")
    committed = {int(i): float(t) for i, t in (line.split("|") for line in rows.split())}
    done, finished = wait_delivered(receiver, len(committed), timeout)
    cpu_after = {"graft": peers.cpu_seconds(server.pid), "receiver": peers.cpu_seconds(receiver.process.pid),
                 "postgres": postmaster_cpu_seconds(cluster)}
    time.sleep(1.5)  # duplicates, if any, arrive after the last first delivery
    calls = receiver.get("/dump")
    first: dict[int, float] = {}
    for received, _event_id, row_id, _t in calls:
        if row_id is not None and row_id not in first:
            first[row_id] = received
    event_ids = [c[1] for c in calls]
    missing = [i for i in committed if i not in first]
    strangers = [i for i in first if i not in committed]
    latencies = sorted((first[i] - committed[i]) * 1000 for i in committed if i in first)
    span_start = min(committed.values())
    span_end = max(first.values()) if first else finished
    wall = finished - wall_before
    rss, hwm = rss_mib(server.pid)
    undelivered = int(cluster.psql(
        "SELECT count(*) FROM hdb_catalog.event_log WHERE NOT delivered AND NOT archived").strip())
    return {
        "rows": len(committed),
        "timed_out": not done,
        "writer": writer,
        "first_commit_to_last_receipt_s": span_end - span_start,
        "write_s": max(committed.values()) - span_start,
        "events_per_s": len(first) / max(span_end - span_start, 1e-9),
        # Without the wait for the first poll (up to one fetch interval): the delivery rate itself.
        "first_to_last_receipt_s": span_end - min(first.values()) if first else None,
        "receipt_events_per_s": (len(first) - 1) / max(span_end - min(first.values()), 1e-9) if len(first) > 1 else None,
        "latency_ms": {"p50": pct(latencies, 50), "p90": pct(latencies, 90), "p99": pct(latencies, 99),
                       "max": latencies[-1] if latencies else None},
        "calls": len(calls),
        "missing": len(missing),
        "duplicate_calls": len(event_ids) - len(set(event_ids)),
        "unknown_rows": len(strangers),
        "undelivered_in_log": undelivered,
        "cpu_s": {k: cpu_after[k] - cpu_before[k] for k in cpu_before},
        "wall_s": wall,
        "graft_rss_mib": rss,
        "graft_peak_rss_mib": hwm,
        "load_average": {"before": load_before, "after": peers.load_average()},
    }


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))
    return values[index]


def write_batches(cluster: Cluster, workdir: Path, rows: int, batch: int):
    def write() -> dict:
        script = workdir / "batches.sql"
        with open(script, "w", encoding="ascii") as file:
            for _ in range(rows // batch):
                file.write(f"BEGIN;\nINSERT INTO bench_events (payload) SELECT 'row ' || g "
                           f"FROM generate_series(1, {batch}) g;\nCOMMIT;\n")
        started = time.time()
        cluster.psql(file=script)
        return {"kind": "psql", "transactions": rows // batch, "rows_per_transaction": batch,
                "seconds": time.time() - started}
    return write


def write_rate(cluster: Cluster, workdir: Path, rate: int, seconds: int):
    def write() -> dict:
        script = workdir / "insert.sql"
        script.write_text("INSERT INTO bench_events (payload) VALUES ('steady');\n")
        args = ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
                "-c", "4", "-j", "1", "-R", str(rate), "-T", str(seconds), "-f", str(script), "postgres"]
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PgError(f"pgbench failed: {done.stderr.strip()[-800:]}")
        tps = re.search(r"tps = ([0-9.]+)", done.stdout)
        return {"kind": "pgbench", "target_rate": rate, "seconds": seconds,
                "achieved_rate": float(tps.group(1)) if tps else None}
    return write


# --- report ---------------------------------------------------------------------------------

def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def render(info: dict) -> str:
    lines = [f"Run of {info['date']}, {info['minutes']} min: `{info['command']}`", ""]
    lines.append(f"- Machine: {info['machine']}. Receiver, writer, graft and PostgreSQL share these cores.")
    lines.append(f"- PostgreSQL {info['postgres']} (throwaway cluster, fsync off, synchronous_commit off); "
                 f"graft {info['graft_revision']}, `--pg-connections {info['pool_size']}`.")
    lines.append(f"- Load average (1/5/15 min) before the run: {info['load_average']['before']}, "
                 f"after: {info['load_average']['after']}; `uptime` before: `{info['uptime_before']}`.")
    lines.append("- Hasura not measured: it cannot run here (no Docker), so there is no peer.")
    for note in info.get("notes", []):
        lines.append(f"- {note}")
    lines.append("")
    lines.append("#### Throughput: events committed in a burst, first commit to last webhook receipt")
    lines.append("")
    lines.append("| graft tuning | rows | write (s) | delivered in (s) | events/s | first → last receipt (events/s) | p50 / p99 latency (ms) "
                 "| missing | duplicates | graft CPU s / 1k events | PostgreSQL CPU s / 1k | receiver CPU s / 1k "
                 "| graft RSS / peak (MiB) | load before → after |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in info["throughput"]:
        r = row["result"]
        k = max(r["rows"], 1) / 1000
        lines.append(
            f"| {row['tuning']} | {r['rows']:,} ({r['writer']['rows_per_transaction']} per tx) "
            f"| {r['write_s']:.2f} | {r['first_commit_to_last_receipt_s']:.2f} | {fmt(r['events_per_s'])} "
            f"| {fmt(r['receipt_events_per_s'])} | {fmt(r['latency_ms']['p50'])} / {fmt(r['latency_ms']['p99'])} "
            f"| {r['missing']}{' (timed out)' if r['timed_out'] else ''} | {r['duplicate_calls']} "
            f"| {r['cpu_s']['graft'] / k:.3f} | {r['cpu_s']['postgres'] / k:.3f} | {r['cpu_s']['receiver'] / k:.3f} "
            f"| {r['graft_rss_mib']:.0f} / {r['graft_peak_rss_mib']:.0f} "
            f"| {r['load_average']['before'].split()[0]} → {r['load_average']['after'].split()[0]} |")
    lines.append("")
    lines.append("#### Latency at a steady load: receive − insert time, one row per transaction")
    lines.append("")
    lines.append("| graft tuning | target rows/s | achieved | rows | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) "
                 "| missing | duplicates | graft CPU (cores) | PostgreSQL CPU (cores) | graft RSS / peak (MiB) "
                 "| load before → after |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in info["latency"]:
        r = row["result"]
        wall = max(r["wall_s"], 1e-9)
        lat = r["latency_ms"]
        lines.append(
            f"| {row['tuning']} | {r['writer']['target_rate']} | {fmt(r['writer']['achieved_rate'])} | {r['rows']:,} "
            f"| {fmt(lat['p50'], 1)} | {fmt(lat['p90'], 1)} | {fmt(lat['p99'], 1)} | {fmt(lat['max'], 1)} "
            f"| {r['missing']}{' (timed out)' if r['timed_out'] else ''} | {r['duplicate_calls']} "
            f"| {r['cpu_s']['graft'] / wall:.2f} | {r['cpu_s']['postgres'] / wall:.2f} "
            f"| {r['graft_rss_mib']:.0f} / {r['graft_peak_rss_mib']:.0f} "
            f"| {r['load_average']['before'].split()[0]} → {r['load_average']['after'].split()[0]} |")
    return "\n".join(lines)


# --- run ------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    rates = [int(r) for r in args.rates.split(",") if r]
    notes: list[str] = []
    problem, note = peers.build_graft(args.skip_build)
    if note:
        notes.append(note)
    if problem:
        peers.log(f"graft is unusable: {problem}")
        return 1
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    load_before = peers.load_average()
    workdir = Path(tempfile.mkdtemp(prefix="graft-bench-events-"))
    cluster = Cluster(max_connections=max(100, args.pool_size * 2 + 20))
    receiver: Receiver | None = None
    server: peers.Server | None = None
    info: dict = {"throughput": [], "latency": []}
    try:
        peers.log(f"starting PostgreSQL on 127.0.0.1:{cluster.port}")
        cluster.start()
        cluster.psql("CREATE TABLE bench_events (id bigserial PRIMARY KEY, payload text, "
                     "t_insert float8 NOT NULL DEFAULT extract(epoch FROM clock_timestamp()))")
        receiver = Receiver(workdir)
        server = start_graft(cluster, workdir, {}, args.pool_size)
        metadata(server, {"type": "pg_track_table", "args": {"table": "bench_events"}})
        metadata(server, {"type": "pg_create_event_trigger", "args": {
            "name": "bench_insert", "table": {"schema": "public", "name": "bench_events"},
            "webhook": receiver.url, "insert": {"columns": "*"},
            "retry_conf": {"num_retries": 3, "interval_sec": 1, "timeout_sec": 60}}})
        version = subprocess.run([str(peers.REPO_DIR / "target" / "release" / "graft"), "version"],
                                 capture_output=True, text=True, check=False).stdout.strip()
        server.stop()
        server = None

        phases = []
        if args.only in (None, "throughput"):
            phases += [("throughput", name, env, write_batches(cluster, workdir, args.rows, args.batch))
                       for name, env in THROUGHPUT_TUNINGS]
        if args.only in (None, "latency"):
            phases += [("latency", name, env, write_rate(cluster, workdir, rate, args.seconds))
                       for name, env in LATENCY_TUNINGS for rate in rates]
        for kind, name, env, write in phases:
            server = start_graft(cluster, workdir, env, args.pool_size)
            time.sleep(1)
            peers.log(f"{kind}: {name}")
            result = run_phase(cluster, server, receiver, write, timeout=300)
            peers.log(f"  {result['rows']} rows, {result['events_per_s']:.0f} events/s, latency "
                      f"p50 {fmt(result['latency_ms']['p50'], 1)} ms p99 {fmt(result['latency_ms']['p99'], 1)} ms, "
                      f"missing {result['missing']}, duplicates {result['duplicate_calls']}")
            info[kind].append({"tuning": name, "env": env, "result": result})
            server.stop()
            server = None

        info.update({
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["bench/run-events"] + [shlex.quote(a) for a in sys.argv[1:]]),
            "minutes": round((time.monotonic() - started) / 60, 1),
            "machine": report.machine(),
            "postgres": cluster.psql("show server_version").strip(),
            "graft_version": version,
            "graft_revision": peers.graft_revision(),
            "pool_size": args.pool_size,
            "uptime_before": uptime_before,
            "load_average": {"before": load_before, "after": peers.load_average()},
            "notes": notes,
        })
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "events-latest.json").write_text(json.dumps(info, indent=1) + "\n")
        markdown = render(info)
        (RESULTS_DIR / "events-latest.md").write_text(markdown + "\n")
        if not args.no_readme:
            report.splice_readme(peers.BENCH_DIR / "README.md", markdown, "events")
        print(markdown)
        return 0
    except (PgError, peers.PeerError) as error:
        peers.log(f"failed: {error}")
        return 1
    finally:
        if server:
            server.stop()
        if receiver:
            receiver.stop()
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    return run(parse_args(sys.argv[1:]))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
