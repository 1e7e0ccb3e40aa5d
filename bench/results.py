"""bench/results.json: every benchmark run's figures, kept so a regression shows.

Each figure is stored next to the raw engine doing the same work in the same run (its
value and the ratio), with its goal and whether it was met. The file holds the last
``KEEP_RUNS`` runs; the benchmarks of one ``make bench`` share a run (``BENCH_RUN_ID``,
set by the Makefile), a module run on its own makes a run of its own.

``python -m bench.results`` prints the last run against the one before it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import operator
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_FILE = Path(__file__).resolve().parent / "results.json"
KEEP_RUNS = 50
RUN_ID_VARIABLE = "BENCH_RUN_ID"

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le,
}


@dataclass(frozen=True)
class Figure:
    """One measured figure; ``goal_op``/``goal_value`` say what "good" means."""

    name: str
    value: float
    unit: str
    raw_engine: str = ""
    raw_value: float | None = None
    goal_op: str = ""  # ">=" or "<=", empty: no goal
    goal_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.raw_value in (None, 0):
            return None
        return round(self.value / float(self.raw_value or 1), 3)

    @property
    def met(self) -> bool | None:
        if not self.goal_op or self.goal_value is None:
            return None
        return _COMPARE[self.goal_op](self.value, self.goal_value)

    @property
    def goal(self) -> str:
        if not self.goal_op or self.goal_value is None:
            return ""
        sign = "≥" if self.goal_op == ">=" else "≤"
        return f"{sign} {self.goal_value:g} {self.unit}"


def machine() -> dict[str, Any]:
    """What the figures were measured on (a shared 2-core VM moves them by ±20 %)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    pressure = ""
    # the share of time runnable tasks waited for a CPU (PSI): other work on the machine
    with contextlib.suppress(OSError, IndexError):
        pressure = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_pressure": pressure,
    }


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
            cwd=RESULTS_FILE.parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load(path: Path = RESULTS_FILE) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("runs", [])) if isinstance(data, dict) else list(data)


def _write(runs: list[dict[str, Any]], path: Path) -> None:
    body = json.dumps({"runs": runs[-KEEP_RUNS:]}, ensure_ascii=False, indent=1)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(body + "\n")
    os.replace(tmp, path)  # a crash mid-write never leaves half a file


def record(
    source: str, figures: Sequence[Figure], command: str = "", path: Path = RESULTS_FILE
) -> str:
    """Append ``figures`` (measured by ``source``, e.g. "spine") to the current run."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = os.environ.get(RUN_ID_VARIABLE) or f"{source}-{now}"
    runs = load(path)
    run = next((r for r in runs if r.get("run_id") == run_id), None)
    if run is None:
        run = {"run_id": run_id, "started_at": now, "commit": commit(), "figures": []}
        runs.append(run)
    where = machine()
    run["figures"] = [f for f in run["figures"] if f.get("source") != source]
    for figure in figures:
        row = asdict(figure)
        row.update(ratio=figure.ratio, goal=figure.goal, met=figure.met, source=source,
                   command=command or " ".join(["python -m", f"bench.{source}", *sys.argv[1:]]),
                   measured_at=now, machine=where)
        run["figures"].append(row)
    _write(runs, path)
    return run_id


def compare_lines(runs: list[dict[str, Any]]) -> list[str]:
    """The last run's figures against the previous run that measured the same name."""
    if not runs:
        return ["no runs recorded yet"]
    last = runs[-1]
    lines = [f"run {last['run_id']} (commit {last.get('commit') or '?'})"]
    for fig in last["figures"]:
        before = next(
            (f for r in reversed(runs[:-1]) for f in r["figures"] if f["name"] == fig["name"]),
            None,
        )
        change = ""
        if before and before["value"]:
            change = f"{(fig['value'] / before['value'] - 1):+.0%} vs {before['value']:,.1f}"
        ratio = f"{fig['ratio']:.2f} × {fig['raw_engine']}" if fig.get("ratio") else ""
        met = {True: "met", False: "NOT met", None: ""}[fig.get("met")]
        lines.append(f"  {fig['name']:<48} {fig['value']:>12,.1f} {fig['unit']:<9} "
                     f"{ratio:<40} {fig.get('goal', ''):<22} {met:<8} {change}".rstrip())
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.results", description=__doc__)
    parser.add_argument("--file", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    for line in compare_lines(load(args.file)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
