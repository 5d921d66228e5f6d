"""The database side: the engine and its one transaction helper, tables, repositories, the
stores behind the handlers' interfaces, and the schema's versions (migrations/, schema.py)."""
