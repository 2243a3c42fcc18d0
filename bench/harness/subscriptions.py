"""bench/run-subscriptions: many live-query subscribers over WebSocket, graft against
PostGraphile v4 with @graphile/subscriptions-lds, in the same throwaway cluster.

Per candidate and scenario (N subscribers): a fresh server -> its RSS -> `ws-load` (bench/ws-load)
connects N subscribers (half one shared query, half one query over `--distinct-ids` ids) and
prints a JSON line at each phase boundary -> at each boundary the harness samples the server's
and PostgreSQL's CPU time and RSS and `pg_stat_statements` -> idle phase (no writes) -> changing
phase (one UPDATE per second, its delay to every client measured inside ws-load) -> stop.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import peers, report
from .pg import Cluster, PgError

CHINOOK = peers.REPO_DIR.parent / "shared" / "bench" / "chinook" / "hasura-ci"
RESULTS_DIR = peers.BENCH_DIR / "results"
WS_LOAD = peers.REPO_DIR / "target" / "release" / "ws-load"
LABELS = {"graft": "graft", "pgv4": "PostGraphile v4 + subscriptions-lds"}

# The same two subscriptions in each candidate's dialect: one row of Track by primary key.
QUERIES = {
    "graft": {
        "shared": "subscription { Track_by_pk(TrackId: 1) { TrackId Name } }",
        "var": "subscription ($id: Int!) { Track_by_pk(TrackId: $id) { TrackId Name } }",
        "protocol": "graphql-transport-ws",
        "init": {"headers": {"x-hasura-admin-secret": "my-secret"}},
        "path": "v1/graphql",
    },
    "pgv4": {
        "shared": "subscription { trackByTrackId(trackId: 1) { trackId name } }",
        "var": "subscription ($id: Int!) { trackByTrackId(trackId: $id) { trackId name } }",
        # PostGraphile 4.14 serves both subprotocols on /graphql, like graft.
        "protocol": "graphql-transport-ws",
        "init": {},
        "path": "graphql",
    },
}
# $1: the token, $2: the per-variable row. One statement, one commit: both rows change at once.
UPDATE_SQL = 'UPDATE "Track" SET "Name" = $1 WHERE "TrackId" IN (1, $2)'


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run-subscriptions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1000,10000", help="scenarios (1000,10000)")
    parser.add_argument("--candidates", default="graft,pgv4", help="graft,pgv4")
    parser.add_argument("--protocol", default="", help="override graft's subprotocol (graphql-ws for the legacy one)")
    parser.add_argument("--distinct-ids", type=int, default=500,
                        help="ids the per-variable half is spread over (500)")
    parser.add_argument("--idle", type=float, default=10, help="seconds of the idle phase (10)")
    parser.add_argument("--changes", type=int, default=20, help="updates in the changing phase, one per second (20)")
    parser.add_argument("--refetch-ms", type=int, default=1000, help="graft's refetch interval (1000)")
    parser.add_argument("--batch-size", type=int, default=100, help="graft's cohorts per statement (100)")
    parser.add_argument("--pool-size", type=int, default=50, help="PostgreSQL pool size of both servers (50)")
    parser.add_argument("--subscribe-timeout", type=float, default=240,
                        help="seconds to wait for every subscriber's first result (240)")
    parser.add_argument("--connect-only", action="store_true",
                        help="diagnosis: connect and initialise only, no subscription (memory of a bare connection)")
    parser.add_argument("--graft-wrapper", default="",
                        help="diagnosis: command prefix for graft, e.g. 'heaptrack -o /tmp/graft'")
    parser.add_argument("--graft-binary", default="",
                        help="diagnosis: another graft binary, e.g. target/debug/graft (line tables for heaptrack)")
    parser.add_argument("--skip-build", action="store_true", help="use target/release/{graft,ws-load} as they are")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument("--render", action="store_true", help="only re-render results/subscriptions.json")
    return parser.parse_args(argv)


# --- installation ---------------------------------------------------------------------------

def ensure_wal2json(cluster_major: str) -> str | None:
    """The wal2json output plugin that subscriptions-lds decodes with. None when present."""
    libdir = subprocess.run(["pg_config", "--pkglibdir"], capture_output=True, text=True,
                            check=False).stdout.strip()
    if libdir and Path(libdir, "wal2json.so").exists():
        return None
    package = f"postgresql-{cluster_major}-wal2json"
    if os.geteuid() != 0:
        return f"wal2json is missing; install it with `apt-get install -y {package}`"
    peers.log(f"installing {package} with apt-get")
    done = subprocess.run(["apt-get", "install", "-y", package], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"apt-get install {package} failed: {done.stderr.strip()[-300:]}"
    return None


def ensure_lds() -> str | None:
    marker = peers.PEERS_DIR / "pgv4" / "node_modules" / "@graphile" / "subscriptions-lds"
    if marker.exists():
        return None
    shutil.rmtree(peers.PEERS_DIR / "pgv4" / "node_modules", ignore_errors=True)
    return peers.ensure_npm_peer("pgv4")


def build(skip: bool) -> str | None:
    if skip:
        return None if WS_LOAD.exists() else f"{WS_LOAD} does not exist"
    for package in ("graft", "ws-load"):
        peers.log(f"building {package}: cargo build --release -p {package}")
        done = subprocess.run(["cargo", "build", "--release", "-p", package], cwd=peers.REPO_DIR,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"cargo build -p {package} failed: {done.stderr.strip()[-800:]}"
    return None


# --- sampling -------------------------------------------------------------------------------

def rss_kib(pid: int) -> int:
    """Current resident set (VmRSS) of the process tree, KiB."""
    total = 0
    for member in peers.process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as file:
                for line in file:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def pg_cpu_seconds(postmaster: int) -> float:
    """CPU of PostgreSQL: every live process of the cluster, plus what the postmaster has reaped
    from backends that already exited (cutime + cstime)."""
    total = peers.cpu_seconds(postmaster)
    try:
        with open(f"/proc/{postmaster}/stat", encoding="ascii") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / peers.CLK_TCK
    except OSError:
        pass
    return total


def statements(cluster: Cluster) -> dict[str, int]:
    """calls per statement text in pg_stat_statements, except the harness's own and the writer's."""
    rows = cluster.psql(
        "SELECT calls, regexp_replace(left(query, 160), '\\s+', ' ', 'g') FROM pg_stat_statements "
        "WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT LIKE 'UPDATE \"Track\" SET%'")
    counts: dict[str, int] = {}
    for line in rows.splitlines():
        calls, _, text = line.partition("|")
        counts[text] = counts.get(text, 0) + int(calls)
    return counts


class Sampler:
    def __init__(self, cluster: Cluster, server_pid: int) -> None:
        self.cluster = cluster
        self.server_pid = server_pid
        self.postmaster = cluster.postmaster_pid()

    def take(self) -> dict:
        return {"t": time.monotonic(), "server_cpu": peers.cpu_seconds(self.server_pid),
                "pg_cpu": pg_cpu_seconds(self.postmaster), "server_rss_kib": rss_kib(self.server_pid),
                "statements": statements(self.cluster)}


def window(start: dict, end: dict, refetch_s: float) -> dict:
    seconds = end["t"] - start["t"]
    calls = {text: end["statements"].get(text, 0) - start["statements"].get(text, 0)
             for text in end["statements"]}
    calls = {text: n for text, n in calls.items() if n > 0}
    total = sum(calls.values())
    top = sorted(calls.items(), key=lambda item: -item[1])[:4]
    return {
        "seconds": round(seconds, 2),
        "server_cpu_pct": round(100 * (end["server_cpu"] - start["server_cpu"]) / seconds, 1),
        "pg_cpu_pct": round(100 * (end["pg_cpu"] - start["pg_cpu"]) / seconds, 1),
        "statements": total,
        "statements_per_interval": round(total / seconds * refetch_s, 1),
        "top_statements": [{"calls": n, "sql": text} for text, n in top],
    }


# --- one scenario ---------------------------------------------------------------------------

def start_server(name: str, cluster: Cluster, workdir: Path, args: argparse.Namespace) -> peers.Server:
    """A fresh server (a new process per scenario, so that its memory baseline is clean)."""
    server = peers.Server(name=name, label=LABELS[name], flavor="graft" if name == "graft" else "pgl")
    if name == "graft":
        env = {"HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL": str(args.refetch_ms),
               "HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_BATCH_SIZE": str(args.batch_size)}
        wrapper = shlex.split(args.graft_wrapper) if args.graft_wrapper else None
        binary = Path(args.graft_binary).resolve() if args.graft_binary else None
        peers.start_graft(server, cluster.url, CHINOOK / "replace_metadata.json", workdir, args.pool_size, env,
                          wrapper, binary)
    else:
        peers.start_postgraphile(server, cluster.url, workdir, args.pool_size, 1, live=True)
    return server


def reset_rows(cluster: Cluster) -> None:
    cluster.psql('UPDATE "Track" t SET "Name" = o."Name" FROM bench_track_names o '
                 'WHERE t."TrackId" = o."TrackId" AND t."Name" IS DISTINCT FROM o."Name"')


def run_scenario(name: str, subscribers: int, cluster: Cluster, workdir: Path,
                 args: argparse.Namespace) -> dict:
    reset_rows(cluster)
    cluster.psql("SELECT pg_stat_statements_reset()")
    server = start_server(name, cluster, workdir, args)
    spec = QUERIES[name]
    protocol = args.protocol if (args.protocol and name == "graft") else spec["protocol"]
    result: dict = {"version": server.version, "protocol": protocol}
    try:
        # One request first, so that lazily built state (schema, pools) is in the baseline.
        peers.post_json(server.url, json.dumps({"query": spec["shared"].replace("subscription", "query", 1)}).encode(),
                        {"X-Hasura-Admin-Secret": "my-secret"} if name == "graft" else {})
        time.sleep(1)
        sampler = Sampler(cluster, server.pid)
        baseline = sampler.take()
        command = [str(WS_LOAD), "--url", f"ws://127.0.0.1:{server.port}/{spec['path']}",
                   "--protocol", protocol, "--init-payload", json.dumps(spec["init"]),
                   "--subscribers", str(subscribers), "--shared-query", spec["shared"],
                   "--var-query", spec["var"], "--first-id", "2", "--distinct-ids", str(args.distinct_ids),
                   "--database-url", cluster.url, "--update-sql", UPDATE_SQL,
                   "--idle-seconds", str(args.idle), "--changes", str(args.changes),
                   "--subscribe-timeout", str(args.subscribe_timeout)]
        if args.connect_only:
            command.append("--no-subscribe")
        load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples: dict[str, dict] = {}
        events: dict[str, dict] = {}
        assert load.stdout is not None
        for line in load.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.pop("event", "")
            events[kind] = event
            if kind in ("subscribed", "idle_start", "idle_end", "change_start", "change_end"):
                samples[kind] = sampler.take()
                peers.log(f"{name} n={subscribers}: {kind} {json.dumps(event)[:300]}")
            if kind == "fatal":
                peers.log(f"{name} n={subscribers}: ws-load failed: {event}")
        load.wait(timeout=60)
        result["load_cpu_s"] = None
        if load.returncode != 0 or "result" not in events:
            result["error"] = f"ws-load exited {load.returncode}: {events.get('fatal')} {load.stderr.read()[-500:] if load.stderr else ''}"
        result["events"] = events
        if server.process is not None and server.process.poll() is not None:
            result["error"] = f"{name} exited during the run: {server.log_tail()[-500:]}"
        refetch_s = args.refetch_ms / 1000
        if "idle_start" in samples:
            after = samples["idle_start"]
            result["rss_before_mib"] = round(baseline["server_rss_kib"] / 1024, 1)
            result["rss_after_mib"] = round(after["server_rss_kib"] / 1024, 1)
            result["kib_per_subscriber"] = round((after["server_rss_kib"] - baseline["server_rss_kib"]) / subscribers, 2)
            result["subscribe_phase"] = window(baseline, samples["subscribed"], refetch_s)
        if "idle_end" in samples:
            result["idle"] = window(samples["idle_start"], samples["idle_end"], refetch_s)
        if "change_end" in samples:
            result["changing"] = window(samples["change_start"], samples["change_end"], refetch_s)
            result["rss_end_mib"] = round(samples["change_end"]["server_rss_kib"] / 1024, 1)
        return result
    finally:
        if args.graft_wrapper and server.process is not None:
            # The wrapper (e.g. heaptrack's shell script) does not pass SIGTERM on: end graft
            # itself so that the wrapper can write its data.
            for child in peers.process_tree(server.pid)[1:]:
                try:
                    os.kill(child, 15)
                except OSError:
                    pass
            try:
                server.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        server.stop()


# --- report ---------------------------------------------------------------------------------

def _fmt(value, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def render(run: dict) -> str:
    lines = [
        f"Run of {run['date']}, {run['minutes']} min: `{run['command']}`",
        "",
        f"- Machine: {run['machine']}. ws-load, the servers and PostgreSQL share these cores.",
        f"- {run['postgres']} (throwaway cluster, fsync off, wal_level=logical, pg_stat_statements).",
        f"- graft refetch interval {run['settings']['refetch_ms']} ms, batch size {run['settings']['batch_size']}; "
        f"per-variable half over {run['settings']['distinct_ids']} ids; idle phase {run['settings']['idle_s']} s; "
        f"changing phase {run['settings']['changes']} updates, one per second; pool size {run['settings']['pool_size']}.",
        f"- Load average (1/5/15 min) before the run: {run['load_average']['before']}, after: {run['load_average']['after']}.",
        f"- graft: {run['versions'].get('graft', '–')} (commit {run['graft_revision']})",
    ]
    if "pgv4" in run["versions"]:
        lines.append(f"- PostGraphile v4: {run['versions']['pgv4']}")
    for name, reason in run["unavailable"].items():
        lines.append(f"- **{LABELS.get(name, name)} not measured**: {reason}")
    header = ["subscribers", "server", "held (first result)", "time to subscribe all (s)",
              "server RSS before → after (MiB)", "KiB / subscriber", "delay p50 / p99 / max (ms)",
              "writes shown / expected (messages)", "idle CPU server / PG (%)", "changing CPU server / PG (%)",
              "statements / interval idle / changing"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for scenario in run["scenarios"]:
        r = scenario["result"]
        events = r.get("events", {})
        sub = events.get("subscribed", {})
        res = events.get("result", {})
        delay = res.get("delay_ms", {})
        idle, changing = r.get("idle", {}), r.get("changing", {})
        row = [
            f"{scenario['subscribers']:,}",
            LABELS[scenario["server"]],
            f"{sub.get('with_data', 0):,} of {scenario['subscribers']:,}" + (f" ({sub.get('failed')} failed)" if sub.get("failed") else ""),
            _fmt(sub.get("seconds"), 1),
            f"{_fmt(r.get('rss_before_mib'), 1)} → {_fmt(r.get('rss_after_mib'), 1)}",
            _fmt(r.get("kib_per_subscriber"), 1),
            f"{_fmt(delay.get('p50'))} / {_fmt(delay.get('p99'))} / {_fmt(delay.get('max'))}",
            (f"{res.get('deliveries', 0):,} / {res.get('expected_deliveries', 0):,} "
             f"({res.get('messages_with_new_write', 0):,})") if res else "–",
            f"{_fmt(idle.get('server_cpu_pct'), 1)} / {_fmt(idle.get('pg_cpu_pct'), 1)}",
            f"{_fmt(changing.get('server_cpu_pct'), 1)} / {_fmt(changing.get('pg_cpu_pct'), 1)}",
            f"{_fmt(idle.get('statements_per_interval'), 1)} / {_fmt(changing.get('statements_per_interval'), 1)}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    notes = []
    for scenario in run["scenarios"]:
        r = scenario["result"]
        label = f"{LABELS[scenario['server']]}, {scenario['subscribers']:,}"
        if r.get("error"):
            notes.append(f"- {label}: **{r['error'][:400]}**")
        samples = r.get("events", {}).get("subscribed", {}).get("failure_samples") or []
        samples += r.get("events", {}).get("result", {}).get("failure_samples") or []
        for sample in dict.fromkeys(samples):
            notes.append(f"- {label}: subscriber failure: `{sample[:200]}`")
        for phase in ("idle", "changing"):
            top = r.get(phase, {}).get("top_statements") or []
            if top:
                parts = "; ".join(f"{t['calls']}× `{t['sql'][:90]}`" for t in top[:3])
                notes.append(f"- {label}, {phase}: {r[phase]['statements']} statements in {r[phase]['seconds']} s: {parts}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


# --- the run --------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    diagnosis = bool(args.connect_only or args.graft_wrapper or args.graft_binary)
    # A diagnosis run does not replace the results of a real run.
    json_path = RESULTS_DIR / ("subscriptions-diagnosis.json" if diagnosis else "subscriptions.json")
    if diagnosis:
        args.no_readme = True
    if args.render:
        markdown = render(json.loads(json_path.read_text()))
        (RESULTS_DIR / "subscriptions.md").write_text(markdown)
        if not args.no_readme:
            report.splice_readme(peers.BENCH_DIR / "README.md", markdown, "subscriptions")
        print(markdown)
        return 0
    started = time.monotonic()
    levels = [int(n) for n in args.subscribers.split(",") if n]
    wanted = [c for c in args.candidates.split(",") if c]
    unavailable: dict[str, str] = {}
    load_before = peers.load_average()
    problem = build(args.skip_build)
    if problem:
        peers.log(problem)
        return 1
    major = subprocess.run(["pg_config", "--version"], capture_output=True, text=True,
                           check=False).stdout.split()[-1].split(".")[0]
    if "pgv4" in wanted:
        problem = ensure_wal2json(major) or ensure_lds()
        if problem:
            unavailable["pgv4"] = problem
    workdir = Path(tempfile.mkdtemp(prefix="graft-bench-subs-"))
    cluster = Cluster(max_connections=max(300, 3 * args.pool_size + 20), extra_settings={
        "shared_preload_libraries": "'pg_stat_statements'",
        "pg_stat_statements.max": "1000",
        "wal_level": "logical",
        "max_replication_slots": "10",
        "max_wal_senders": "10",
    })
    scenarios: list[dict] = []
    versions: dict[str, str] = {}
    try:
        peers.log(f"starting PostgreSQL on 127.0.0.1:{cluster.port} and loading Chinook")
        cluster.start()
        cluster.load_gzipped_sql(CHINOOK / "dump.sql.gz")
        cluster.psql("CREATE EXTENSION pg_stat_statements")
        cluster.psql('CREATE TABLE bench_track_names AS SELECT "TrackId", "Name" FROM "Track"')
        for subscribers in levels:
            for name in wanted:
                if name in unavailable:
                    continue
                peers.log(f"{LABELS[name]}: {subscribers} subscribers (load average {peers.load_average()})")
                try:
                    result = run_scenario(name, subscribers, cluster, workdir, args)
                except peers.PeerError as error:
                    unavailable[name] = str(error).splitlines()[0][:300]
                    peers.log(f"{name} is unavailable: {error}")
                    continue
                versions[name] = result.get("version", "")
                scenarios.append({"server": name, "subscribers": subscribers, "result": result})
                # Let sockets close and the machine calm down before the next scenario.
                time.sleep(5)
        run_info = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["bench/run-subscriptions"] + [shlex.quote(a) for a in sys.argv[1:]]),
            "minutes": round((time.monotonic() - started) / 60, 1),
            "machine": report.machine(),
            "postgres": cluster.psql("show server_version").strip(),
            "versions": versions,
            "graft_revision": peers.graft_revision(),
            "load_average": {"before": load_before, "after": peers.load_average()},
            "settings": {"refetch_ms": args.refetch_ms, "batch_size": args.batch_size,
                         "distinct_ids": args.distinct_ids, "idle_s": args.idle, "changes": args.changes,
                         "pool_size": args.pool_size},
            "unavailable": unavailable,
            "scenarios": scenarios,
        }
        RESULTS_DIR.mkdir(exist_ok=True)
        json_path.write_text(json.dumps(run_info, indent=1) + "\n")
        markdown = render(run_info)
        json_path.with_suffix(".md").write_text(markdown)
        if not args.no_readme:
            report.splice_readme(peers.BENCH_DIR / "README.md", markdown, "subscriptions")
        print(markdown)
        return 0
    except PgError as error:
        peers.log(f"PostgreSQL failed: {error}")
        return 1
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    return run(parse_args(sys.argv[1:]))
