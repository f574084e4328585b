"""A TCP proxy in front of PostgreSQL for the crash tests: cut it, and the bot loses its database."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import TYPE_CHECKING

from tests.crash.process import free_port

if TYPE_CHECKING:
    from tests.crash.harness import Disturb, Result
    from tests.crash.process import BotProcess


class Proxy:
    """A TCP proxy in front of PostgreSQL that can be cut: open connections reset, new ones refused."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
        self._writers -= {writer, up_writer}

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()


def outage(proxy: Proxy, seconds: float) -> Disturb:
    """Cut the database off once, at a random point of the load, for ``seconds``."""

    async def disturb(bot: BotProcess, result: Result, rng: random.Random, done: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), rng.uniform(0.5, 1.5))
        if done.is_set():
            return
        await proxy.cut()
        cut = time.monotonic()
        result.outages += 1
        await asyncio.sleep(seconds)
        await proxy.restore()
        result.disturbed.append((cut, time.monotonic()))

    return disturb
