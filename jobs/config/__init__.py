"""Configuration: the schema with its defaults, loading and validation, and `config show`."""
