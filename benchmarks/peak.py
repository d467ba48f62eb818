"""Peak memory of a child process, measured without the benchmark's own memory.

Linux keeps the high-water mark of the process image that exec replaces, so the ``ru_maxrss`` of a
child started straight from a benchmark that has loaded a model counts the benchmark's memory too.
:func:`run` forks the command from a small wrapper process instead and reads that child's usage.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

WRAPPER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(f"PEAK_RSS_KB {usage.ru_maxrss}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[int, float, float, str, str]:
    """Run ``command`` (its first item an executable path); exit code, peak RSS in MB, seconds, stdout, stderr."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *command], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = done.stderr.splitlines()
    peak = next(int(line.split()[1]) for line in reversed(lines) if line.startswith("PEAK_RSS_KB"))
    stderr = "\n".join(line for line in lines if not line.startswith("PEAK_RSS_KB"))
    return done.returncode, peak / 1024, seconds, done.stdout, stderr
