"""The Telegram bot: updates in, HTML messages and keyboards out, staff cards, broadcasts."""
