"""Rendering the effective configuration for `gpuscout config show`, with secrets masked."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from gpuscout.jobs.config.schema import SMTP_PASSWORD_ENV, Config
from gpuscout.jobs.config.urls import mask_url

MASK = "****"


def effective(cfg: Config) -> dict[str, Any]:
    """The configuration as plain data; secrets only say whether they are set."""
    import os

    from gpuscout.scraper.sources.registry import SOURCES

    sources = {name: asdict(s) for name, s in cfg.sources.items()}
    for table in sources.values():
        if table.get("proxy"):
            table["proxy"] = mask_url(table["proxy"])
    data: dict[str, Any] = {
        "config_file": cfg.path or "(built-in defaults)",
        "database": {"url": mask_url(cfg.database_url)},
        "watch": [asdict(w) for w in cfg.watches],
        "search": [asdict(s) for s in cfg.searches],
        "sources": sources,
        "fetch": asdict(cfg.fetch),
        "scan": asdict(cfg.scan),
        "scoring": {"rates": dict(cfg.scoring.rates), "rates_url": mask_url(cfg.scoring.rates_url),
                    "rates_max_age_hours": cfg.scoring.rates_max_age_hours},
        "secrets": {
            var: (MASK if os.environ.get(var) else "(not set)")
            for var in (*(v for s in SOURCES for v in s.credentials.values()), SMTP_PASSWORD_ENV)
        },
    }
    if cfg.email is not None:
        data["email"] = asdict(cfg.email)
    if cfg.notify:
        data["notify"] = [{"name": n.name, "url": mask_url(n.url) if n.url else None,
                           "url_env": n.url_env} for n in cfg.notify]
        for n in cfg.notify:
            if n.url_env:
                data["secrets"][n.url_env] = MASK if os.environ.get(n.url_env) else "(not set)"
    if cfg.alerts:
        data["alert"] = [asdict(a) for a in cfg.alerts]
    if cfg.catalog:
        data["catalog"] = [dict(entry) for entry in cfg.catalog]
    data["cluster"] = asdict(cfg.cluster)
    for var in (cfg.cluster.broker_url_env, cfg.cluster.redis_url_env, cfg.cluster.proxy_env):
        data["secrets"][var] = MASK if os.environ.get(var) else "(not set)"
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render(cfg: Config, fmt: str) -> str:
    data = effective(cfg)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return _to_toml(data)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _to_toml(data: dict[str, Any]) -> str:
    lines = [f"# effective configuration from {data.pop('config_file')}"]
    for section, value in data.items():
        if isinstance(value, list):
            for item in value:
                lines += ["", f"[[{section}]]"] + [f"{_key(k)} = {_toml_value(v)}" for k, v in item.items()]
        elif all(isinstance(v, dict) for v in value.values()) and value and section == "sources":
            for name, table in value.items():
                lines += ["", f"[{section}.{name}]"] + [
                    f"{_key(k)} = {_toml_value(v)}" for k, v in table.items()]
        else:
            lines += ["", f"[{section}]"] + [f"{_key(k)} = {_toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"
