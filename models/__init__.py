"""Storage and the pure evaluator; see models.storage and models.judge."""
