"""CLI start-up: ``gpuscout --help`` and ``gpuscout deals`` in fresh processes, beside
``python -c pass``, best and median of N; and the slowest imports behind ``import gpuscout.jobs.cli.main``."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def gpuscout_command() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point."""
    script = Path(sys.executable).parent / "gpuscout"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from gpuscout.jobs.cli.main import main; main()"]


def _times(cmd: list[str], env: dict[str, str], cwd: str, n: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return {"best_s": min(times), "median_s": statistics.median(times)}


def slowest_imports(env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """(module, cumulative ms) of the slowest imports of ``import gpuscout.jobs.cli.main``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gpuscout.jobs.cli.main"], env=env,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m and not m.group(2).strip(" "):
            rows.append((m.group(3), int(m.group(1)) / 1000))
    rows = [(name, ms) for name, ms in rows if "." not in name or name.startswith("jobs.")]
    return sorted(rows, key=lambda r: -r[1])[:top]


def run(db_url: str, n: int) -> dict[str, Any]:
    """Start-up times with the database at ``db_url`` (no configuration file: the defaults)."""
    env = {k: v for k, v in os.environ.items() if k != "GPUSCOUT_CONFIG"}
    env["GPUSCOUT_DATABASE_URL"] = db_url
    gpuscout = gpuscout_command()
    with tempfile.TemporaryDirectory(prefix="gpuscout-cli-") as cwd:
        # one untimed run: a first `deals` may upgrade the database
        subprocess.run([*gpuscout, "deals"], env=env, cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out: dict[str, Any] = {
            "python": _times([sys.executable, "-c", "pass"], env, cwd, n),
            "help": _times([*gpuscout, "--help"], env, cwd, n),
            "deals": _times([*gpuscout, "deals"], env, cwd, n),
        }
    out["help_s"] = out["help"]["median_s"]
    out["deals_s"] = out["deals"]["median_s"]
    out["slowest_imports_ms"] = slowest_imports(env)
    return out
