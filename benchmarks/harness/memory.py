"""The memory a run uses: resident set sizes in KiB, as Linux counts them."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def peak_rss_kib(who: int = resource.RUSAGE_SELF) -> int:
    """The peak RSS of this process (or, with RUSAGE_CHILDREN, of its largest ended child)."""
    return resource.getrusage(who).ru_maxrss


def proc_status_kib(field: str) -> int | None:
    """A kB figure of /proc/self/status (VmRSS, VmHWM), or None where there is no /proc."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith(field + ":")), None)
    return int(line.split()[1]) if line else None


def tree_rss_kib(pid: int) -> int:
    """The RSS of a process and of all its descendants together, or 0 once it is gone."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        task = Path(f"/proc/{current}/task")
        try:
            status = Path(f"/proc/{current}/status").read_text(encoding="ascii")
            threads = list(task.iterdir())
        except OSError:
            continue
        line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
        total += int(line.split()[1]) if line else 0
        for thread in threads:
            with contextlib.suppress(OSError):
                pending += [int(child) for child in (thread / "children").read_text().split()]
    return total


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux ≥ 4.0), so that the next peak is measured alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def kib_to_mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"
