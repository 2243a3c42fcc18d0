"""The load drivers: wrk for the HTTP candidates, pgbench for the raw-PostgreSQL ceiling.

Both run closed-loop at a fixed number of connections for a fixed time and return one `Sample`:
requests per second, latency percentiles, and how many requests failed. wrk's own summary does
not give percentiles in a parseable form, so a Lua `done` hook prints them as one JSON line.
pgbench's percentiles come from its per-transaction log (`-l`).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class LoadError(RuntimeError):
    pass


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int


WRK_SCRIPT = """
wrk.method = "POST"
local file = io.open(%(body)s, "rb")
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
%(headers)s
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"status\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, \\"write\\": %%d, \\"timeout\\": %%d, \\"p50_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_wrk_script(directory: Path, name: str, body: bytes, headers: dict[str, str]) -> Path:
    body_path = directory / f"{name}.json"
    body_path.write_bytes(body)
    header_lines = "\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    script = directory / f"{name}.lua"
    script.write_text(WRK_SCRIPT % {"body": _lua_string(str(body_path)), "headers": header_lines})
    return script


def run_wrk(wrk: str, url: str, script: Path, connections: int, seconds: float) -> Sample:
    threads = 1 if connections < 4 else 2
    args = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(script), url]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=seconds + 60)
    match = re.search(r"WRKJSON (\{.*\})", done.stdout)
    if done.returncode != 0 or not match:
        raise LoadError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(match.group(1))
    failed = sum(result[key] for key in ("status", "connect", "read", "write", "timeout"))
    duration = result["duration_us"] / 1e6
    ok = result["requests"] - failed
    return Sample(rps=ok / duration, p50_ms=result["p50_us"] / 1000, p99_ms=result["p99_us"] / 1000,
                  requests=result["requests"], failed=failed)


# Linux limits one command-line argument to 128 KiB; pgbench's -D takes one per variable.
INLINE_ABOVE = 8_000


def pgbench_script(sql: str, params: list[str | None]) -> tuple[str, list[str]]:
    """graft's statement as a pgbench script: `$n` becomes the pgbench variable `:pn`, which
    pgbench -M prepared sends as bind parameter n, so the server sees graft's exact text and
    values. A value too long for a command-line argument (the objects of a 10,000-row insert) is
    written into the text as a quoted literal instead: the statement is still prepared once per
    connection. Returns the script and the `-D` definitions."""
    if any(value is None for value in params):
        raise LoadError("a NULL bind parameter cannot be passed to pgbench")

    def parameter(match: re.Match) -> str:
        value = params[int(match.group(1)) - 1]
        if value is not None and len(value) > INLINE_ABOVE:
            return "'" + value.replace("'", "''") + "'"
        return f":p{match.group(1)}"

    script = re.sub(r"\$(\d+)\b", parameter, sql).rstrip().rstrip(";") + ";\n"
    defines = [f"p{i}={value}" for i, value in enumerate(params, start=1)
               if value is not None and len(value) <= INLINE_ABOVE]
    return script, defines


def run_pgbench(port: int, script_text: str, defines: list[str], connections: int,
                seconds: float, transactions: int | None = None) -> Sample:
    """pgbench for `seconds`, or, with `transactions`, exactly that many per connection (a
    check that must not write more rows than one request would)."""
    with tempfile.TemporaryDirectory(prefix="graft-bench-pgbench-") as tmp:
        directory = Path(tmp)
        script = directory / "query.sql"
        script.write_text(script_text)
        threads = 1 if connections < 4 else 2
        args = ["pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", str(threads),
                *(["-t", str(transactions)] if transactions else ["-T", str(max(1, round(seconds)))]),
                "-f", str(script), "-l",
                "--log-prefix", str(directory / "tx"), "-h", "127.0.0.1", "-p", str(port),
                "-U", "postgres"]
        for define in defines:
            args += ["-D", define]
        args.append("postgres")
        done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=directory,
                              timeout=seconds + 60)
        if done.returncode != 0:
            raise LoadError(f"pgbench failed ({done.returncode}): {done.stderr[-800:]}")
        tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
        processed = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
        if not tps or not processed:
            raise LoadError(f"cannot read pgbench output: {done.stdout[-800:]}")
        latencies: list[int] = []
        for log in directory.glob("tx.*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]))
        latencies.sort()
        if not latencies:
            raise LoadError("pgbench wrote no transaction log")

        def percentile(fraction: float) -> float:
            return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] / 1000

        return Sample(rps=float(tps.group(1)), p50_ms=percentile(0.5), p99_ms=percentile(0.99),
                      requests=int(processed.group(1)), failed=int(failed.group(1)) if failed else 0)
