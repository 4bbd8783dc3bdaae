"""HTTP load from wrk (Debian's `wrk`: C, epoll), for rates a Python client cannot make.

A Python load generator on this 2-core machine tops out near 250 requests a second, below
what the service answers, so the figures would measure the client. wrk runs one thread (one
core at most, leaving the other to the service, as the Python client did), keeps `clients`
connections busy, and sends the given requests round-robin from a generated Lua script.
Its latencies are whole requests on kept-alive connections, as an integrator's pool sends them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WRK = "wrk"

# wrk calls request() for each request and done() once at the end; done() prints the figures
# as one JSON line, read back below. Every status other than 2xx and 3xx counts as an error.
SCRIPT = """
local requests = {%(requests)s}
local next_request = 0
function request()
  next_request = next_request %% #requests + 1
  return requests[next_request]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "microseconds": %%d, "errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json_body: object | None = None


def available() -> bool:
    return shutil.which(WRK) is not None


def _lua_string(value: str) -> str:
    """A Lua long string cannot hold ]==] here: JSON bodies and paths never contain it."""
    return f"[==[{value}]==]"


def _lua_request(call: Call) -> str:
    if call.json_body is None:
        return f'wrk.format("{call.method}", {_lua_string(call.path)})'
    body = json.dumps(call.json_body, ensure_ascii=False)
    headers = '{["Content-Type"] = "application/json"}'
    return f'wrk.format("{call.method}", {_lua_string(call.path)}, {headers}, {_lua_string(body)})'


def cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have spent so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def load(
    base: str, clients: int, seconds: float, calls: list[Call], pids: list[int] | None = None
) -> dict[str, float | int]:
    """Requests/s, p50 and p99 in ms, and errors, of `clients` connections for `seconds`;
    the same keys as the Python client's tally. With the service's `pids`, also the CPU
    milliseconds they spent per request: the cost of an answer, which the load the machine
    is under changes far less than it changes the rate."""
    before = cpu_seconds(pids) if pids else 0.0
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "calls.lua"
        requests = ",\n".join(_lua_request(call) for call in calls)
        script.write_text(SCRIPT % {"requests": requests}, encoding="utf-8")
        command = [WRK, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
        finished = subprocess.run(
            [*command, "-s", str(script), base], capture_output=True, text=True, check=True
        )
    figures = json.loads(finished.stdout.strip().splitlines()[-1])
    answered = figures["requests"] - figures["errors"]
    result = {
        "requests": figures["requests"],
        "errors": figures["errors"],
        "rps": round(answered / (figures["microseconds"] / 1e6), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
    }
    if pids:
        spent = cpu_seconds(pids) - before
        result["cpu_ms_per_request"] = round(spent * 1000 / max(1, figures["requests"]), 3)
    return result
