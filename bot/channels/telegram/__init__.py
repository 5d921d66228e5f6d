"""The Telegram bot: updates in, HTML messages and keyboards out, staff cards, broadcasts."""

# The channel's name, importable without python-telegram-bot (see channel.py).
CHANNEL = "telegram"
