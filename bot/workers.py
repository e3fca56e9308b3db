"""Outbox senders' worker ids, which say on which machine and in which process a sender runs,
so that a sender starting there can tell the claims of senders whose process has ended."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import uuid


@functools.cache
def machine() -> str:
    """This machine's process table, in 8 hex digits: the host's name, its boot, and the PID
    namespace (containers on one host may share a name, but never their process ids)."""
    parts = [socket.gethostname()]
    for read in (_boot_id, _pid_namespace):
        with contextlib.suppress(OSError):  # not Linux: the host's name alone
            parts.append(read())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]


def _boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as boot:
        return boot.read().strip()


def _pid_namespace() -> str:
    return os.readlink("/proc/self/ns/pid")


def worker_id(channel: str) -> str:
    """A new sender's id: `<channel>-<machine>-<pid>-<random>`, at most 40 characters."""
    return f"{here(channel)}{os.getpid()}-{uuid.uuid4().hex[:6]}"


def here(channel: str) -> str:
    """What the ids of this machine's senders of `channel` start with."""
    return f"{channel}-{machine()}-"


def process_gone(worker: str) -> bool:
    """True if `worker` ran on this machine in a process that has ended. A process id that
    another process has taken since counts as alive: those claims wait for their lease."""
    parts = worker.split("-")
    if len(parts) != 4 or parts[1] != machine() or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if pid == os.getpid():
        return False  # this process: another sender of it may hold them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's
    return False
