"""One message to Zalo, one try (the pipeline retries and maps the errors: :mod:`bot.channels.zalo_adapter`),
and "typing…" while a step runs."""

from __future__ import annotations

import asyncio
import logging

from bot.channels.zalo_client import ZaloBadRequest, ZaloClient, ZaloError
from bot.channels.zalo_render import Outgoing

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def one(self, chat_id: str, item: Outgoing) -> None:
        """One try. A photo the server refuses (400) is replaced by its link text."""
        if item.photo is None:
            await self.client.send_message(chat_id, item.text)
            return
        try:
            await self.client.send_photo(chat_id, item.photo, item.caption)
        except ZaloBadRequest as exc:
            log.info("zalo: photo refused (%s); sending the link instead", exc.description)
            await self.client.send_message(chat_id, item.text)

    async def typing(self, chat_id: str, every: float = 4.0) -> None:
        """Keep "typing…" shown until cancelled; failures are not worth a retry."""
        while True:
            try:
                await self.client.send_chat_action(chat_id)
            except ZaloError as exc:
                log.debug("zalo: typing action failed: %s", exc)
            await asyncio.sleep(every)
