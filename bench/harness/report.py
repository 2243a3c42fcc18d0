"""Markdown tables from a run's results, and the splice into bench/README.md (between the
`<!-- results:start -->` and `<!-- results:end -->` markers; the rest of the README is prose).

Every number is the median of the repeats, with [min–max] beside throughput. Ratios divide
medians: graft / pgbench is the share of the raw-PostgreSQL ceiling graft reaches with its own
SQL; graft / PostGraphile above 1 means graft is faster. Inserts also get a table in rows per
second (requests/s x rows per request), with graft / plain INSERT: the share of a hand-written
multi-row INSERT's speed that graft's one-statement insert reaches.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

CANDIDATES = ("graft", "pgbench", "pgbench_insert", "pgv4", "pgv5")
SHORT = {"pgbench": "pgbench", "pgbench_insert": "plain INSERT", "pgv4": "PostGraphile v4",
         "pgv5": "PostGraphile v5"}


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kib = 0
    return f"{os.cpu_count()} cores ({model}), {mem_kib / 1024 / 1024:.0f} GiB RAM, {platform.system()} {platform.release()}"


def wrk_version(wrk: str | None) -> str:
    if not wrk:
        return "unavailable"
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout + done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk"


def _median(samples: list[dict], key: str) -> float | None:
    values = [s[key] for s in samples if key in s]
    return statistics.median(values) if values else None


def _rps_cell(samples: list[dict] | None) -> str:
    if not samples:
        return "–"
    values = [s["rps"] for s in samples]
    return f"{statistics.median(values):,.0f} [{min(values):,.0f}–{max(values):,.0f}]"


def _ratio(numerator: list[dict] | None, denominator: list[dict] | None) -> str:
    if not numerator or not denominator:
        return "–"
    bottom = _median(denominator, "rps")
    if not bottom:
        return "–"
    return f"{_median(numerator, 'rps') / bottom:.2f}"


def _latency(samples: list[dict] | None) -> str:
    if not samples:
        return "–"
    return f"{_median(samples, 'p50_ms'):.2f} / {_median(samples, 'p99_ms'):.2f}"


def render(run: dict, labels: dict[str, str]) -> str:
    results = run["results"]
    candidates = [c for c in CANDIDATES
                  if any(c in cell for query in results.values() for cell in query.values())]
    lines = [
        f"Run of {run['date']}, {run['minutes']} min: `{run['command']}`",
        "",
        f"- Machine: {run['machine']}. Load tool and servers share these cores.",
        f"- PostgreSQL {run['postgres']} (throwaway cluster, fsync off); load: {run['wrk']}, pgbench -M prepared.",
        f"- Each point: {run['settings']['duration_s']:g} s, repeated {run['settings']['repeats']}x, "
        f"candidates interleaved; pool size {run['settings']['pool_size']}; "
        f"PostGraphile v4 workers: {run['settings']['pgl_workers']}.",
        f"- Load average (1/5/15 min) before the run: {run['load_average']['before']}, after: "
        f"{run['load_average']['after']} (other work on the machine inflates every number).",
    ]
    for name, version in run["versions"].items():
        extra = f" (commit {run['graft_revision']})" if name == "graft" else ""
        lines.append(f"- {labels[name]}: {version}{extra}")
    for note in run["notes"]:
        lines.append(f"- Note: {note}")
    for name, reason in run["unavailable"].items():
        lines.append(f"- **{labels[name]} not measured**: {reason}")
    failed = [(name, query, reason) for name, per_query in run["failures"].items()
              for query, reason in per_query.items()]
    if failed:
        lines += ["", "Responses that failed their check (not timed):", ""]
        lines += [f"- {labels[name]}, `{query}`: {reason}" for name, query, reason in failed]

    errored = [(query, connections, name, sum(s["failed"] for s in samples))
               for query, levels in results.items() for connections, cell in levels.items()
               for name, samples in cell.items() if sum(s["failed"] for s in samples)]
    if errored:
        lines += ["", "Failed requests during timing (excluded from requests/s):", ""]
        lines += [f"- `{query}` at {connections} connections, {labels[name]}: {count}"
                  for query, connections, name, count in errored]
    else:
        lines.append("- No request failed during timing.")

    lines += ["", "#### Throughput (requests/s, median [min–max]) and ratios", ""]
    header = ["query", "conns"] + [labels[c] for c in candidates]
    ratio_names = []
    if "graft" in candidates:
        ratio_names = [c for c in CANDIDATES[1:] if c in candidates]
        header += [f"graft / {SHORT[c]}" for c in ratio_names]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for query, levels in results.items():
        for connections, cell in levels.items():
            row = [f"`{query}`", connections] + [_rps_cell(cell.get(c)) for c in candidates]
            row += [_ratio(cell.get("graft"), cell.get(c)) for c in ratio_names]
            lines.append("| " + " | ".join(row) + " |")

    lines += _rows_per_second(run, candidates)

    lines += ["", "#### Latency p50 / p99 (ms, median of repeats)", ""]
    header = ["query", "conns"] + [labels[c] for c in candidates]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for query, levels in results.items():
        for connections, cell in levels.items():
            row = [f"`{query}`", connections] + [_latency(cell.get(c)) for c in candidates]
            lines.append("| " + " | ".join(row) + " |")

    servers = [c for c in candidates if not c.startswith("pgbench")]
    if servers:
        lines += ["", "#### Server CPU seconds per 1,000 requests (median; whole process tree; "
                  "PostgreSQL's own CPU not included)", ""]
        header = ["query", "conns"] + [labels[c] for c in servers]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for query, levels in results.items():
            for connections, cell in levels.items():
                row = [f"`{query}`", connections]
                for name in servers:
                    value = _median(cell.get(name) or [], "cpu_s_per_1k")
                    row.append(f"{value:.3f}" if value is not None else "–")
                lines.append("| " + " | ".join(row) + " |")
        lines += ["", "#### Memory (VmHWM, MiB)", "", "| server | peak after start + checks | peak after the run |",
                  "|---|---|---|"]
        for name in servers:
            if name in run["memory_peak_mib"]:
                lines.append(f"| {labels[name]} | {run['memory_start_mib'][name]:.0f} | "
                             f"{run['memory_peak_mib'][name]:.0f} |")
    lines.append("")
    return "\n".join(lines)


def _rows_per_second(run: dict, candidates: list[str]) -> list[str]:
    rows_per_request = run.get("rows_per_request", {})
    inserts = [q for q in run["results"] if q in rows_per_request]
    if not inserts:
        return []
    header = ["query", "conns"] + [c for c in candidates]
    lines = ["", "#### Inserts: rows written per second (median requests/s x rows per request)", "",
             "| query | conns | " + " | ".join(SHORT.get(c, c) for c in candidates)
             + " | graft / plain INSERT | graft / PostGraphile v5 |", "|" + "---|" * (len(header) + 2)]
    for query in inserts:
        rows = rows_per_request[query]
        for connections, cell in run["results"][query].items():
            row = [f"`{query}`", connections]
            for name in candidates:
                value = _median(cell.get(name) or [], "rps")
                row.append(f"{value * rows:,.0f}" if value is not None else "–")
            row += [_ratio(cell.get("graft"), cell.get("pgbench_insert")), _ratio(cell.get("graft"), cell.get("pgv5"))]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def splice_readme(readme: Path, markdown: str, section: str = "results") -> None:
    """Replaces what is between `<!-- <section>:start -->` and `<!-- <section>:end -->` (appended
    when missing); the rest of the README is prose and stays as it is."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = readme.read_text() if readme.exists() else "# bench\n"
    if start not in text or end not in text:
        text += f"\n{start}\n{end}\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: f"{start}\n{markdown.rstrip()}\n{end}", text)
    readme.write_text(text)
