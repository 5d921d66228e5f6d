"""Repository functions over the sqlmodel tables; each takes the caller's `session` and never commits."""
