"""The cluster's deployment files, checked by parsing them: the compose file is valid YAML naming
the services the README lists, and every command a unit or a service runs is a real gpuscout
command (its options accepted by the CLI)."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gpuscout.jobs.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _accepted(argv: list[str]) -> None:
    """``gpuscout ARGV`` parses: the same words with --help appended exit 0 (nothing runs)."""
    result = CliRunner().invoke(cli, [*argv, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, (argv, result.output)
    assert "Usage: " in result.output


def _readme_services() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    line = re.search(r"`deploy/compose\.yaml` runs the services (.+?)\(", section.replace("\n", " "))
    assert line, "the README's Scaling out section names the compose file's services"
    listed = re.findall(r"`([a-z]+)`", section[section.index("runs the services"):][:300])
    return set(listed)


def test_compose_file_is_yaml_with_the_services_the_readme_lists() -> None:
    compose: Any = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == _readme_services() == {"postgres", "redis", "migrate", "scheduler",
                                                   "worker"}
    assert services["scheduler"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 3
    env = services["worker"]["environment"]
    assert env["GPUSCOUT_DATABASE_URL"].startswith("postgresql://")
    assert env["GPUSCOUT_BROKER_URL"].startswith("redis://redis:6379/")
    for name in ("migrate", "scheduler", "worker"):
        _accepted(services[name]["command"])
    assert (ROOT / services["worker"]["build"]["context"].replace("..", ".") /
            services["worker"]["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("unit", ["gpuscout-scheduler.service", "gpuscout-worker@.service"])
def test_systemd_units_run_real_gpuscout_commands(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / unit, encoding="utf-8")
    service = parser["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "gpuscout"
    # NOTE: systemd specifiers (%i, %H) become words of the instance: any word is a valid name
    _accepted([a.replace("%i", "1").replace("%H", "host") for a in argv[1:]])
    assert service["Restart"] == "always" and "EnvironmentFile" in service
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert argv[-2:] == ["run", "--distributed"] or argv[-3] == "worker"


def test_units_are_the_ones_the_readme_installs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for unit in (DEPLOY / "systemd").iterdir():
        assert f"deploy/systemd/{unit.name}" in text
