"""Storage: the only code that knows SQL (tables, engine, writes, reads, outbox, lock, migrations)."""
