"""Errors raised by the jobs layer.

    JobError              base of everything this package raises
    ├── ConfigError       a bad configuration file or value (the CLI exits 2)
    ├── DeliveryError     an email could not be delivered (DNS, refused, TLS, auth, ...)
    └── ClusterError      scaling out cannot start: no PostgreSQL, no broker URL, broker down
"""

from __future__ import annotations


class JobError(Exception):
    """Base class of the jobs layer's errors."""


class ConfigError(JobError):
    """A configuration problem; the message names the key, the value and what is allowed."""


class DeliveryError(JobError):
    """An email could not be delivered; ``kind`` says which step failed."""

    def __init__(self, message: str, *, kind: str = "error", permanent: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.permanent = permanent


class ClusterError(JobError):
    """`gpuscout run --distributed` or `gpuscout worker` cannot work as configured; the message
    says what to set."""
