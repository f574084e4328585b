"""``python -m bot backup --out FILE`` and ``python -m bot restore FILE`` (bot/backup.py does the work)."""

from __future__ import annotations

import argparse
import sys

from bot.config import Config


async def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup

    try:
        summary = await backup(config, args.out)
    except BackupError as exc:
        print(f"backup not made: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {summary}")
    return 0


async def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore

    try:
        summary = await restore(config, args.file)
    except BackupError as exc:
        print(f"nothing restored: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.file}: {summary}")
    return 0
