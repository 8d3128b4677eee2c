"""Every command fails with one line that says what to do, never a traceback: an unreachable or
unreadable database, and option values out of any sensible range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.smtp import closed_port

COMMANDS = [("deals",), ("deals", "--format", "csv"), ("status",), ("stats",), ("show", "1"),
            ("history", "1"), ("explain", "1"), ("export",), ("alerts", "list"), ("db", "upgrade"),
            ("scan",), ("rescore",)]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_postgresql_server_is_one_line(run_cli: Any, command: tuple[str, ...]) -> None:
    url = f"postgresql://gpuscout:s3cret@127.0.0.1:{closed_port()}/gpuscout"
    result = run_cli(*command, db_url=url)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("gpuscout: cannot use the database postgresql://gpuscout:****@127.0.0.1:")
    assert "Connection refused" in lines[0] or "connection" in lines[0].lower()
    assert "check database.url or GPUSCOUT_DATABASE_URL" in lines[0]
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", [("deals",), ("status",), ("show", "1")])
def test_a_file_that_is_not_a_database_is_one_line(run_cli: Any, tmp_path: Path,
                                                   command: tuple[str, ...]) -> None:
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n" * 100)
    result = run_cli(*command, db_url=f"sqlite:///{tmp_path / 'notes.db'}")
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"gpuscout: database error sqlite:///{tmp_path / 'notes.db'}: file is not a database"]


@pytest.mark.parametrize(("args", "message"), [
    (("deals", "--max-price", "nan"), "'nan' is not an amount from 0 to 100000000"),
    (("deals", "--max-price", "inf"), "'inf' is not an amount"),
    (("deals", "--max-price", "1e999"), "'1e999' is not an amount"),
    (("deals", "--max-price", "-5"), "'-5' is not an amount"),
    (("deals", "--max-price", "seven"), "'seven' is not a number"),
    (("deals", "--since", "99999999999w"), "'99999999999w': at most 36500 days (5214w)"),
    (("deals", "--since", "999999999d"), "at most 36500 days (36500d)"),
    (("deals", "--since", "9" * 40 + "m"), "use a number and a unit"),
    (("deals", "--since", "1y"), "use a number and a unit, like 90m, 24h, 7d or 2w"),
    (("alerts", "list", "--limit", "99999999999999999999"), "is not in the range 1<=x<=100000"),
    (("cron", "--schedule", "every day"), "'every day': must be a 5-field cron expression"),
    (("cron", "--schedule", "* * 31 2 *"), "never"),
])
def test_option_values_out_of_range_are_usage_errors(run_cli: Any, tmp_path: Path,
                                                     args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args, db_url=f"sqlite:///{tmp_path / 'gpuscout.db'}")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: Invalid value for") and message in last, last
    assert not (tmp_path / "gpuscout.db").exists()


@pytest.mark.parametrize("ref", ["99999999999999999999999", "9223372036854775808", "²", "٣",
                                 "ebay:", ":"])
@pytest.mark.parametrize("command", ["show", "history", "explain"])
def test_a_listing_id_beyond_any_id_is_no_listing(run_cli: Any, tmp_path: Path, command: str,
                                                  ref: str) -> None:
    result = run_cli(command, ref, db_url=f"sqlite:///{tmp_path / 'gpuscout.db'}")
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: no listing {ref!r} (use an id from `gpuscout deals`, or source:external_id)"]


def test_the_largest_id_is_looked_up(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("show", str(2**63 - 1), db_url=f"sqlite:///{tmp_path / 'gpuscout.db'}")
    assert result.exit_code == 1 and "no listing" in result.output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("evaluate", "--title", "RTX 3090", "--price", "1e999"), None, "price = '1e999': not a price"),
    (("evaluate", "--title", "RTX 3090", "--shipping", "nan"), None, "shipping = 'nan': not a price"),
    (("evaluate",), '{"title": "RTX 3090", "price": 1e999}\n', "line 1: price = inf: not a price"),
])
def test_evaluate_refuses_amounts_beyond_any_price(run_cli: Any, args: tuple[str, ...],
                                                   stdin: str | None, message: str) -> None:
    result = run_cli(*args, input=stdin)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_demo_into_a_folder_that_cannot_be_made_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    result = run_cli("demo", "--keep", str(tmp_path / "file" / "demo"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot create {tmp_path / 'file' / 'demo'}: Not a directory"]


@pytest.mark.parametrize("url", ["postgresql://bob:s3cret@db.example:notaport/gpu",
                                 "postgresql://bob:s3cret@db.example:99999/gpu"])
def test_a_database_url_with_a_bad_port_is_a_config_error(run_cli: Any, url: str) -> None:
    result = run_cli("deals", db_url=url)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("gpuscout: configuration error: GPUSCOUT_DATABASE_URL = "
                               "'postgresql://bob:****@db.example:")
    assert "s3cret" not in result.output
