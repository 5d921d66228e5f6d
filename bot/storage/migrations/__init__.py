"""Alembic's script directory: `env.py`, the revision template and `versions/` (one file per
schema change, numbered). `bot.storage.schema` runs them; nothing here reads alembic.ini."""
