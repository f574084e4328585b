"""Zalo polling's journal: ``getUpdates`` has no offset and consumes an update as it answers, so an
update is lost if the process dies between that answer and the inbox write. The poller appends each
update here in the very step that parsed the answer (one ``write`` to a local file, no ``await``
between the parse and the write), and clears it once the inbox has the update; at start, and before
the next poll, what the journal still holds is written to the inbox first.

What is left of the window is the answer's way over the network and its parsing: nothing a client can
shorten (the webhook has no such window: Zalo redelivers until it gets a 200). The write is not
fsync'ed: it survives ``kill -9`` and a crash of the bot (the kernel has it), not a power cut.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class PollJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        return self._fd

    def append(self, update: Any) -> None:
        """Write ``update`` down (one line, one system call)."""
        line = json.dumps(update, ensure_ascii=False, separators=(",", ":")) + "\n"
        os.write(self._open(), line.encode("utf-8"))

    def pending(self) -> list[Any]:
        """The updates written down and not yet cleared (a line cut by a crash mid-write is skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out: list[Any] = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                log.warning("zalo: a torn line in the poll journal %s skipped", self.path)
        return out

    def clear(self) -> None:
        """The inbox has everything written down."""
        os.ftruncate(self._open(), 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
