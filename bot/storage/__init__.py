"""The database side: the engine and its one transaction helper, tables, repositories, and the
stores behind the handlers' interfaces."""
