"""The channel-neutral delivery pipeline: intake (the inbox written before the platform is told
"received"), the durable dialog step, the replies sent and their rows marked, the sender told to wait
while the database is down, retries with backoff.

A channel plugs in with an :class:`~bot.pipeline.adapter.Adapter` (read an update, render a reply,
send a part) and keeps only what is its platform's: receiving (polling, a webhook) and its client.
Nothing here imports a channel (a contract in ``pyproject.toml``).
"""
