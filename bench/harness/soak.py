"""bench/run-soak: graft's memory at rest and over a long run (issue 9's goals: idle memory under
30 MB with Chinook tracked, no growth over a 10-minute run).

One throwaway cluster with Chinook and the generated schema (as `bench/run` sets it up), one graft
process with the same metadata. Idle: VmRSS after start-up and the metadata load, then again after
one request of each query (caches filled). Then `--minutes` of closed-loop load at
`--connections`, cycling through the read queries and the 1- and 100-row inserts in `--slice`
second slices (wrk, one query at a time), sampling VmRSS after every slice. Growth is the last
minute's median RSS against the first minute's: a leak shows as a steady climb, a cache or
allocator settling as a step at the start.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from . import generated, load, peers, report
from .main import RESULTS_DIR, headers_for, load_data, request_body
from .pg import Cluster, PgError
from .queries import QUERIES, with_inserts

# The read queries of bench/run (introspection included: it is cached per role) and the small
# inserts; the 10,000-row insert measures peak memory per request, not growth, so it is left out.
SOAK_QUERIES = ["hasura_simple", "hasura_complex_small", "hasura_complex_large", "hasura_introspection",
                "by_pk", "filtered_list", "nested_3", "aggregate", "invoices_employee", "typename",
                "generated_nested", "insert_1", "insert_100"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run-soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="length of the loaded run (10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--slice", type=int, default=10, help="seconds per query slice (10)")
    parser.add_argument("--pool-size", type=int, default=50, help="graft's PostgreSQL pool size (50)")
    parser.add_argument("--skip-build", action="store_true", help="use target/release/graft as it is")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    return parser.parse_args(argv)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    wrk = peers.ensure_wrk()
    if wrk is None:
        return 1
    problem, note = peers.build_graft(args.skip_build)
    if problem:
        peers.log(problem)
        return 1
    queries = [q for q in with_inserts(QUERIES, generated.insert_author(1)) if q.name in SOAK_QUERIES]
    workdir = Path(tempfile.mkdtemp(prefix="graft-soak-"))
    cluster = Cluster(max_connections=max(300, args.pool_size * 2 + args.connections + 20))
    server = peers.Server(name="graft", label="graft", flavor="graft")
    try:
        cluster.start()
        metadata_path = load_data(cluster, 1, workdir)
        peers.start_graft(server, cluster.url, metadata_path, workdir, args.pool_size)
        time.sleep(5)
        idle_start = rss_mib(server.pid)
        for query in queries:
            status, body = peers.post_json(server.url, request_body(query, "graft"), headers_for(query, "graft"))
            if status != 200 or b'"errors"' in body:
                peers.log(f"{query.name} failed: {status} {body[:300]!r}")
                return 1
        time.sleep(5)
        idle_warm = rss_mib(server.pid)
        peers.log(f"idle: {idle_start:.1f} MiB after start, {idle_warm:.1f} MiB after one request of each query")

        scripts = workdir / "wrk"
        scripts.mkdir()
        runners = [(q.name, load.write_wrk_script(scripts, q.name, request_body(q, "graft"), headers_for(q, "graft")))
                   for q in queries]
        samples: list[dict] = []
        deadline = time.monotonic() + args.minutes * 60
        begun = time.monotonic()
        requests = failed = 0
        turn = 0
        while time.monotonic() < deadline:
            name, script = runners[turn % len(runners)]
            turn += 1
            sample = load.run_wrk(wrk, server.url, script, args.connections, args.slice)
            requests += sample.requests
            failed += sample.failed
            samples.append({"t_s": round(time.monotonic() - begun, 1), "query": name,
                            "rss_mib": rss_mib(server.pid), "rps": sample.rps})
        time.sleep(5)
        idle_after = rss_mib(server.pid)
        first = [s["rss_mib"] for s in samples if s["t_s"] <= 60]
        last = [s["rss_mib"] for s in samples if s["t_s"] >= samples[-1]["t_s"] - 60]
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["bench/run-soak"] + [shlex.quote(a) for a in sys.argv[1:]]),
            "minutes_total": round((time.monotonic() - started) / 60, 1),
            "graft_revision": peers.graft_revision(),
            "note": note,
            "settings": {"minutes": args.minutes, "connections": args.connections, "slice_s": args.slice,
                         "pool_size": args.pool_size, "queries": [q.name for q in queries]},
            "idle_start_mib": idle_start, "idle_warm_mib": idle_warm, "idle_after_mib": idle_after,
            "first_minute_mib": statistics.median(first), "last_minute_mib": statistics.median(last),
            "max_mib": max(s["rss_mib"] for s in samples), "peak_hwm_mib": peers.peak_rss_mib(server.pid),
            "requests": requests, "failed": failed, "samples": samples,
            "load_average_after": peers.load_average(),
        }
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
        markdown = render(result)
        print(markdown)
        if not args.no_readme:
            report.splice_readme(peers.BENCH_DIR / "README.md", markdown, "soak")
        return 0
    except (PgError, peers.PeerError, load.LoadError) as error:
        peers.log(f"soak run failed: {error}")
        return 1
    finally:
        server.stop()
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def render(r: dict) -> str:
    growth = r["last_minute_mib"] - r["first_minute_mib"]
    settings = r["settings"]
    lines = [
        f"Run of {r['date']}, {r['minutes_total']} min: `{r['command']}` (graft {r['graft_revision']}; "
        f"{settings['connections']} connections, {settings['slice_s']} s per query slice, "
        f"{len(settings['queries'])} queries in turn; load average after: {r['load_average_after']})",
        "",
        "| what | graft VmRSS (MiB) |",
        "|---|---|",
        f"| idle after start-up, Chinook + generated schema tracked | {r['idle_start_mib']:.1f} |",
        f"| idle after one request of each query | {r['idle_warm_mib']:.1f} |",
        f"| under load, median of the first minute | {r['first_minute_mib']:.1f} |",
        f"| under load, median of the last minute | {r['last_minute_mib']:.1f} |",
        f"| growth, last minute against first | {growth:+.1f} |",
        f"| highest sample under load / VmHWM | {r['max_mib']:.1f} / {r['peak_hwm_mib']:.1f} |",
        f"| idle again, 5 s after the load | {r['idle_after_mib']:.1f} |",
        "",
        f"{r['requests']:,} requests, {r['failed']} failed.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    return run(parse_args(sys.argv[1:]))
