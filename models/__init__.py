"""Storage (typed SQLAlchemy 2) and the pure evaluator (identification, condition, scoring)."""
