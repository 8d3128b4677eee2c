"""Validated values from one TOML table: every error names ``table.key``, the value and what is
allowed; numbers are finite; defaults come from the schema's dataclass fields."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from typing import Any

from gpuscout.jobs.errors import ConfigError


def defaults(cls: type) -> dict[str, Any]:
    """The field defaults of a schema dataclass (the one place defaults are written)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


class Table:
    """Reads one table, naming ``prefix.key`` in every error. ``base`` supplies defaults."""

    def __init__(self, data: Any, prefix: str, base: dict[str, Any] | None = None) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix}: expected a table, got {data!r}")
        self.data = data
        self.prefix = prefix
        self.base = base or {}
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def raw(self, name: str, default: Any = ...) -> Any:
        self.seen.add(name)
        if default is ...:
            default = self.base.get(name, ...)
        return self.data.get(name, default)

    def string(self, name: str, default: Any = ..., *, choices: tuple[str, ...] | None = None,
               single_line: bool = False) -> Any:
        value = self.raw(name, default)
        if value is ...:
            raise ConfigError(f"{self.key(name)} is missing: a string is required")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)} = {value!r}: must be a non-empty string")
        if choices and value not in choices:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be one of {', '.join(choices)}")
        if single_line and any(c in value for c in "\r\n\0"):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be one line (no CR, LF or NUL)")
        return value

    def number(self, name: str, default: Any = ..., *, minimum: float | None = None,
               maximum: float | None = None, integer: bool = False) -> Any:
        """A finite number (``nan`` and ``inf`` are refused) within the bounds, or None when the
        default is None and the key is absent."""
        value = self.raw(name, default)
        if value is ...:
            raise ConfigError(f"{self.key(name)} is missing: a number is required")
        if value is None or name not in self.data:
            return value  # a default: already of its type
        kind = "a whole number" if integer else "a number"
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be a finite number")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind} ≥ {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{self.key(name)} = {value!r}: must be {kind} ≤ {maximum}")
        return value

    def money(self, name: str, default: Any = ...) -> Decimal | None:
        value = self.number(name, default, minimum=0)
        return value if value is None or isinstance(value, Decimal) else Decimal(str(value))

    def flag(self, name: str, default: Any = ...) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be true or false")
        return value

    def str_table(self, name: str) -> dict[str, str]:
        value = self.raw(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(name)} = {value!r}: must be a table of strings")
        out = {}
        for k, v in value.items():
            if not isinstance(v, str | int | float | bool):
                raise ConfigError(f"{self.key(name)}.{k} = {v!r}: must be a string")
            out[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
        return out

    def done(self, allowed_extra: tuple[str, ...] = ()) -> None:
        unknown = set(self.data) - self.seen - set(allowed_extra)
        if unknown:
            name = sorted(unknown)[0]
            raise ConfigError(f"{self.key(name)}: unknown key (misspelt?)")
