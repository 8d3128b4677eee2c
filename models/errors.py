"""Errors raised by the models layer.

    ModelError           base of everything this package raises
    ├── DatabaseError    the database cannot be opened, migrated or written (wraps SQLAlchemy errors)
    └── ScanLocked       another scan holds the scan lock
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of the models layer's errors."""


class DatabaseError(ModelError):
    """The database could not be opened, migrated or written."""


class ScanLocked(ModelError):
    """Another scan is running (the scan lock is held)."""
