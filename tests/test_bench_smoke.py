"""bench/run's harness on a tiny load: every figure is produced, on SQLite,
with the Python load generator (wrk may not be installed). Whether a target
is met is the bench's business, never the suite's: no timing is asserted."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    "login throughput ÷ hashing ceiling",
    "`me` throughput, 1 process, 16 connections",
    "`me` ÷ bare Starlette route, same DB work",
    "login p99 at 16 concurrent clients",
    "`me` p99 while logins saturate the CPU",
    "address search executed, 16 clients: p99",
    "worst accepted document parse + validate",
    "web process RSS after mixed load",
    "mails per second, outbox → local aiosmtpd",
]


def test_the_harness_prints_every_figure_with_its_target() -> None:
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "bench" / "harness.py"),
            "--smoke",
            "--backends",
            "sqlite",
            "--loader",
            "python",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout[done.stdout.index("| figure |") :]
    assert "| figure | SQLite | target | met |" in table
    for row in ROWS:
        line = next((ln for ln in table.splitlines() if ln.startswith(f"| {row}")), "")
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == 4, (row, line)
        value, target, met = cells[1:]
        assert re.fullmatch(r"[\d,]+(\.\d+)?( ms| MB|/s)?", value), (row, value)
        assert target.startswith(("≥", "≤")), (row, target)
        assert met in {"yes", "NO"}, (row, met)
    million = next(ln for ln in table.splitlines() if "PostgreSQL)" in ln)
    assert "| — |" in million  # PostgreSQL-only, not asked for here
    assert "load: bench/load.py" in done.stdout
