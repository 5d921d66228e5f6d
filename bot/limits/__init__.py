"""Limits that must hold for the whole bot: request windows, Telegram's send pace, one-time
claims. In one process's memory by default; shared through Redis when `[redis] url` is set, so
any number of processes hold them together."""
