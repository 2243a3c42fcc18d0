"""bench/run: one benchmark run, from an empty machine state to the tables in bench/README.md.

Order of a run: install what is missing (wrk, the npm peers) -> build graft -> throwaway
PostgreSQL with Chinook and the generated schema -> start graft (Hasura's replace_metadata.json) and PostGraphile v4/v5
-> capture the exact SQL graft sends for each query (log_statement = all, one request each) ->
check every candidate's response against a count taken from the database -> timed points,
candidates interleaved -> results JSON + README tables. Everything started is stopped at the end.
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
from dataclasses import asdict
from pathlib import Path

from . import generated, load, peers, report
from .pg import Cluster, PgError
from .queries import QUERIES, Query, pgl_variables, with_inserts

# pgbench scripts by (candidate, query): the script text and its `-D` definitions.
Scripts = dict[tuple[str, str], tuple[str, list[str]]]

# wrk gives up on a request after 10 s; a check waits longer, to say how long an answer takes.
CHECK_TIMEOUT_S = 120

CHINOOK = peers.REPO_DIR.parent / "shared" / "bench" / "chinook" / "hasura-ci"
RESULTS_DIR = peers.BENCH_DIR / "results"
ALL_CANDIDATES = ["graft", "pgbench", "pgbench_insert", "pgv4", "pgv5"]
LABELS = {"graft": "graft", "pgbench": "pgbench (graft's SQL)", "pgbench_insert": "pgbench (plain INSERT)",
          "pgv4": "PostGraphile v4", "pgv5": "PostGraphile v5"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3, help="seconds per timed point, whole (3)")
    parser.add_argument("--repeats", type=int, default=3, help="timed points per cell (3)")
    parser.add_argument("--connections", default="1,16,64", help="connection counts (1,16,64)")
    parser.add_argument("--queries", default="", help="comma-separated query names (default: all)")
    parser.add_argument("--candidates", default=",".join(ALL_CANDIDATES),
                        help="comma-separated subset of graft,pgbench,pgbench_insert,pgv4,pgv5 (all)")
    parser.add_argument("--scale", type=int, default=1,
                        help="size of the generated schema: 1,000 authors, 10,000 articles and 50,000 "
                        "comments per unit (1)")
    parser.add_argument("--pool-size", type=int, default=50,
                        help="PostgreSQL pool size of graft and PostGraphile (50)")
    parser.add_argument("--pgl-workers", type=int, default=1,
                        help="PostGraphile v4 cluster workers (1: one Node process, like v5)")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per query and candidate, whole (1)")
    parser.add_argument("--skip-build", action="store_true", help="use target/release/graft as it is")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument("--list", action="store_true", help="list the queries and exit")
    parser.add_argument("--render", action="store_true",
                        help="only re-render results/latest.json into the tables (and README)")
    return parser.parse_args(argv)


def check_response(query: Query, flavor: str, status: int, body: bytes, truth: int | None) -> str | None:
    """None when the response is right, else what is wrong with it."""
    if status != 200:
        return f"HTTP {status}: {body[:300]!r}"
    try:
        parsed = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:300]!r}"
    if parsed.get("errors"):
        return f"GraphQL errors: {json.dumps(parsed['errors'])[:400]}"
    data = parsed.get("data")
    if data is None:
        return "no data"
    counter = query.count_graft if flavor == "graft" else query.count_pgl
    try:
        count = counter(data)
    except (KeyError, TypeError, IndexError) as error:
        return f"unexpected shape ({error!r}): {body[:300]!r}"
    expected = truth if truth is not None else 1
    if count != expected:
        return f"{count} rows, the database says {expected}"
    return None


def request_body(query: Query, flavor: str) -> bytes:
    if flavor == "graft":
        return json.dumps({"query": query.graft, "variables": query.variables}).encode()
    return json.dumps({"query": query.pgl, "variables": pgl_variables(query)}).encode()


def headers_for(query: Query, flavor: str) -> dict[str, str]:
    return query.graft_headers if flavor == "graft" else {}


def render_only(args: argparse.Namespace) -> int:
    run_info = json.loads((RESULTS_DIR / "latest.json").read_text())
    markdown = report.render(run_info, LABELS)
    (RESULTS_DIR / "latest.md").write_text(markdown)
    if not args.no_readme:
        report.splice_readme(peers.BENCH_DIR / "README.md", markdown)
    print(markdown)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.render:
        return render_only(args)
    started = time.monotonic()
    every_query = with_inserts(QUERIES, generated.insert_author(args.scale))
    queries = [q for q in every_query if not args.queries or q.name in args.queries.split(",")]
    if args.list or not queries:
        for query in every_query:
            print(f"{query.name:24} {query.about}")
        return 0 if args.list else 2
    levels = [int(c) for c in args.connections.split(",")]
    wanted = [c for c in args.candidates.split(",") if c]
    unavailable: dict[str, str] = {}
    workdir = Path(tempfile.mkdtemp(prefix="graft-bench-"))

    wrk = peers.ensure_wrk()
    if wrk is None:
        for name in ("graft", "pgv4", "pgv5"):
            unavailable[name] = "wrk could not be installed"
    notes: list[str] = []
    load_before = peers.load_average()
    if "graft" in wanted and "graft" not in unavailable:
        problem, note = peers.build_graft(args.skip_build)
        if note:
            notes.append(note)
        if problem:
            unavailable["graft"] = problem
            unavailable["pgbench"] = "needs graft's SQL"
    if not any(q.plain_sql for q in queries):
        wanted = [c for c in wanted if c != "pgbench_insert"]
    for name in ("pgv4", "pgv5"):
        if name in wanted and name not in unavailable:
            problem = peers.ensure_npm_peer(name)
            if problem:
                unavailable[name] = problem

    estimate = estimate_seconds(args, queries, levels, [c for c in wanted if c not in unavailable])
    peers.log(f"timed part: about {estimate / 60:.0f} min")
    cluster = Cluster(max_connections=max(300, 3 * args.pool_size + max(levels) + 20))
    servers: dict[str, peers.Server] = {}
    try:
        peers.log(f"starting PostgreSQL on 127.0.0.1:{cluster.port} and loading Chinook")
        cluster.start()
        metadata_path = load_data(cluster, args.scale, workdir)
        truths = {q.name: int(cluster.psql(q.truth_sql).strip()) if q.truth_sql else None for q in queries}

        for name in ("graft", "pgv4", "pgv5"):
            if name not in wanted or name in unavailable:
                continue
            server = peers.Server(name=name, label=LABELS[name], flavor="graft" if name == "graft" else "pgl")
            peers.log(f"starting {LABELS[name]}")
            try:
                if name == "graft":
                    peers.start_graft(server, cluster.url, metadata_path, workdir,
                                      args.pool_size)
                else:
                    peers.start_postgraphile(server, cluster.url, workdir, args.pool_size, args.pgl_workers)
            except peers.PeerError as error:
                unavailable[name] = str(error).splitlines()[0][:300]
                peers.log(f"{name} is unavailable: {error}")
                server.stop()
                continue
            servers[name] = server
        if "graft" not in servers:
            unavailable.setdefault("pgbench", "needs graft's SQL")

        failures, statements = check_all(cluster, servers, queries, truths, wanted, unavailable)
        memory_start = {name: peers.peak_rss_mib(s.pid) for name, s in servers.items()}
        results = measure(args, wrk, cluster, servers, queries, levels, failures, statements, workdir)
        memory_peak = {name: peers.peak_rss_mib(s.pid) for name, s in servers.items()}

        run_info = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["bench/run"] + [shlex.quote(a) for a in sys.argv[1:]]),
            "minutes": round((time.monotonic() - started) / 60, 1),
            "machine": report.machine(),
            "postgres": cluster.psql("show server_version").strip(),
            "wrk": report.wrk_version(wrk),
            "versions": {name: s.version for name, s in servers.items()},
            "graft_revision": peers.graft_revision(),
            "load_average": {"before": load_before, "after": peers.load_average()},
            "notes": notes,
            "settings": {"duration_s": args.duration, "repeats": args.repeats, "connections": levels,
                         "pool_size": args.pool_size, "pgl_workers": args.pgl_workers,
                         "scale": args.scale},
            "unavailable": unavailable,
            "failures": failures,
            "memory_start_mib": memory_start,
            "memory_peak_mib": memory_peak,
            "queries": {q.name: q.about for q in queries},
            "rows_per_request": {q.name: q.rows_per_request for q in queries if q.rows_per_request},
            "results": results,
        }
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "latest.json").write_text(json.dumps(run_info, indent=1) + "\n")
        markdown = report.render(run_info, LABELS)
        (RESULTS_DIR / "latest.md").write_text(markdown)
        if not args.no_readme:
            report.splice_readme(peers.BENCH_DIR / "README.md", markdown)
        print(markdown)
        peers.log(f"done in {run_info['minutes']} min; results in bench/results/latest.json")
        return 0
    except PgError as error:
        peers.log(f"PostgreSQL failed: {error}")
        return 1
    finally:
        for server in servers.values():
            server.stop()
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def load_data(cluster: Cluster, scale: int, workdir: Path) -> Path:
    """Chinook and the generated schema into the running cluster; returns the path of the
    metadata that tracks both (Hasura's replace_metadata.json plus the generated tables)."""
    cluster.load_gzipped_sql(CHINOOK / "dump.sql.gz")
    peers.log(f"generating authors / articles / comments at scale {scale}")
    cluster.psql(stdin=generated.schema_sql(scale).encode())
    metadata_path = workdir / "replace_metadata.json"
    metadata_path.write_text(json.dumps(generated.with_generated_tables(
        json.loads((CHINOOK / "replace_metadata.json").read_text()))))
    return metadata_path


def estimate_seconds(args: argparse.Namespace, queries: list[Query], levels: list[int],
                     candidates: list[str]) -> float:
    total = 0.0
    for query in queries:
        count = len([c for c in candidates if (c != "pgbench" or query.has_sql)
                     and (c != "pgbench_insert" or query.plain_sql)])
        cells = len([c for c in levels if not query.max_connections or c <= query.max_connections])
        total += count * (cells * args.repeats * (max(1, round(args.duration)) + 0.3) + args.warmup + 0.3)
    return total


def check_all(cluster: Cluster, servers: dict[str, peers.Server], queries: list[Query],
              truths: dict[str, int | None], wanted: list[str],
              unavailable: dict[str, str]) -> tuple[dict[str, dict[str, str]], Scripts]:
    """Checks every (candidate, query) once and captures graft's SQL for the pgbench ceiling.
    Returns failures[candidate][query] = reason, and the pgbench scripts:
    scripts[(candidate, query)] = (script, defines), for `pgbench` and `pgbench_insert`."""
    failures: dict[str, dict[str, str]] = {name: {} for name in ALL_CANDIDATES}
    statements: Scripts = {}
    if "pgbench_insert" in wanted:
        for query in queries:
            if query.plain_sql:
                script = query.plain_sql + ";\n"
                try:
                    load.run_pgbench(cluster.port, script, [], 1, 1, transactions=1)
                    statements[("pgbench_insert", query.name)] = (script, [])
                except load.LoadError as error:
                    failures["pgbench_insert"][query.name] = str(error)[:300]
    sql_dir = RESULTS_DIR / "sql"
    sql_dir.mkdir(parents=True, exist_ok=True)
    for name, server in servers.items():
        for query in queries:
            if server.flavor == "pgl" and query.pgl_unavailable:
                failures[name][query.name] = query.pgl_unavailable
                continue
            started = time.monotonic()
            try:
                status, body = peers.post_json(server.url, request_body(query, server.flavor),
                                               headers_for(query, server.flavor), timeout=CHECK_TIMEOUT_S)
                problem = check_response(query, server.flavor, status, body, truths[query.name])
            except OSError as error:
                problem = f"no answer after {time.monotonic() - started:.0f} s ({error})"
            if time.monotonic() - started > 5:
                peers.log(f"check of {name} {query.name} took {time.monotonic() - started:.1f} s")
            if problem:
                failures[name][query.name] = problem
                peers.log(f"check failed: {name} {query.name}: {problem}")
    if "pgbench" not in wanted or "pgbench" in unavailable or "graft" not in servers:
        return failures, statements
    graft = servers["graft"]
    for query in queries:
        if not query.has_sql:
            continue
        if query.name in failures["graft"]:
            failures["pgbench"][query.name] = "graft's response failed its check"
            continue
        offset = cluster.log_offset()
        cluster.set_log_statements(True)
        try:
            peers.post_json(graft.url, request_body(query, "graft"), headers_for(query, "graft"))
            logged = cluster.capture_statements(offset)
        finally:
            cluster.set_log_statements(False)
        candidates = [s for s in logged if "hdb_catalog" not in s.sql and "pg_reload_conf" not in s.sql
                      and "ALTER SYSTEM" not in s.sql and "set_config('hasura.user'" not in s.sql
                      and s.sql.lstrip()[:4].upper() in ("SELE", "WITH", "INSE")]
        if len(candidates) != 1:
            failures["pgbench"][query.name] = f"expected one statement from graft, the log has {len(candidates)}"
            continue
        statement = candidates[-1]
        try:
            script, defines = load.pgbench_script(statement.sql, statement.params)
            load.run_pgbench(cluster.port, script, defines, 1, 1, transactions=1)
        except load.LoadError as error:
            failures["pgbench"][query.name] = str(error)[:300]
            continue
        (sql_dir / f"{query.name}.sql").write_text(
            f"-- graft's statement for `{query.name}`, as PostgreSQL logged it\n{statement.sql.strip()}\n"
            + "".join(f"-- ${i}: {value}\n" for i, value in enumerate(statement.params, start=1)))
        statements[("pgbench", query.name)] = (script, defines)
    return failures, statements


def measure(args: argparse.Namespace, wrk: str | None, cluster: Cluster, servers: dict[str, peers.Server],
            queries: list[Query], levels: list[int], failures: dict[str, dict[str, str]],
            statements: Scripts, workdir: Path) -> dict:
    scripts_dir = workdir / "wrk"
    scripts_dir.mkdir(exist_ok=True)
    results: dict = {}
    for query in queries:
        runners = {}
        for name, server in servers.items():
            if query.name in failures[name] or wrk is None:
                continue
            script = load.write_wrk_script(scripts_dir, f"{name}-{query.name}", request_body(query, server.flavor),
                                           headers_for(query, server.flavor))
            runners[name] = (lambda c, s, server=server, script=script:
                             load.run_wrk(wrk, server.url, script, c, s))
        for name in ("pgbench", "pgbench_insert"):
            if (name, query.name) in statements:
                script_text, defines = statements[(name, query.name)]
                runners[name] = (lambda c, s, script_text=script_text, defines=defines:
                                 load.run_pgbench(cluster.port, script_text, defines, c, s))
        if not runners:
            continue
        for name, runner in list(runners.items()):
            try:
                runner(16, args.warmup)
            except load.LoadError as error:
                failures[name][query.name] = f"warm-up failed: {str(error)[:300]}"
                del runners[name]
        results[query.name] = {}
        for connections in levels:
            if query.max_connections and connections > query.max_connections:
                continue
            cell: dict[str, list[dict]] = {name: [] for name in runners}
            order = list(runners)
            for repeat in range(args.repeats):
                rotated = order[repeat % len(order):] + order[:repeat % len(order)]
                for name in rotated:
                    server = servers.get(name)
                    cpu_before = peers.cpu_seconds(server.pid) if server else 0.0
                    try:
                        sample = runners[name](connections, args.duration)
                    except load.LoadError as error:
                        peers.log(f"{name} {query.name} c={connections}: {error}")
                        continue
                    entry = asdict(sample)
                    if server:
                        used = peers.cpu_seconds(server.pid) - cpu_before
                        entry["cpu_s_per_1k"] = used / max(sample.requests, 1) * 1000
                    cell[name].append(entry)
            results[query.name][str(connections)] = cell
            summary = ", ".join(f"{n} {statistics.median(s['rps'] for s in v):.0f}/s"
                                for n, v in cell.items() if v)
            peers.log(f"{query.name} c={connections}: {summary}")
    return results


def main() -> int:
    return run(parse_args(sys.argv[1:]))
