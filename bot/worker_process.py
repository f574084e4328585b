"""What every worker process of this bot runs first (the file builder's and the chart worker's pools):
it must not outlive the bot. ``kill -9`` of the bot runs no clean-up, and a ``spawn`` worker (and with
it multiprocessing's ``resource_tracker``, which lives while any holder of its pipe does) would go on
alone, holding memory and database connections.

- On Linux the worker asks the kernel for ``SIGKILL`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``).
- Everywhere, a daemon thread looks at the parent pid every second and ends the worker when it changed
  (the parent died and the worker was handed to init), which also covers a parent that died before the
  ``prctl``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` does."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except OSError:
            pass  # no libc to call: the watch thread below does it
    if os.getppid() != parent_pid:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def init_worker(parent_pid: int, nice: int) -> None:
    """The pools' initializer: tied to the bot's life, at a lower CPU priority."""
    die_with_parent(parent_pid)
    os.nice(nice)
