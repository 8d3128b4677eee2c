"""Job test helpers: gpuscout run in-process in an isolated folder, the pages a scan reads, and a
loopback SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.market import OWN_PAGES, PageSet, capture_pages
from tests.support.smtp import SmtpServer, smtp_server


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """run_cli("deals", "--format", "json", db_url=..., config=...) -> click Result."""
    monkeypatch.chdir(tmp_path)
    for var in ("GPUSCOUT_CONFIG", "GPUSCOUT_DATABASE_URL", "GPUSCOUT_SMTP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)

    def _run(*args: str, db_url: str | None = None, config: str | None = None,
             input: str | None = None, env: dict[str, str] | None = None) -> Any:
        from gpuscout.jobs.cli.main import cli

        full_env = dict(env or {})
        if db_url:
            full_env["GPUSCOUT_DATABASE_URL"] = db_url
        argv = (["--config", config] if config else []) + list(args)
        return CliRunner().invoke(cli, argv, env=full_env, input=input, catch_exceptions=False,
                                  prog_name="gpuscout")

    return _run


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, recording what it receives."""
    with smtp_server() as s:
        yield s


@pytest.fixture(params=["own", "captures"])
def page_set(request: pytest.FixtureRequest) -> PageSet:
    """The project's own pages, then the real captures (skipped when they are absent)."""
    if request.param == "own":
        return OWN_PAGES
    return capture_pages(request.getfixturevalue("read_fixture"))
