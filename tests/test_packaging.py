"""Packaging: the top-level folders install as gpuscout.*, and nothing is left out of the wheel."""

from __future__ import annotations

import fnmatch
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _package_folder(package: str) -> Path:
    for prefix, folder in sorted(SETUPTOOLS["package-dir"].items(), key=lambda kv: -len(kv[0])):
        if package == prefix or package.startswith(prefix + "."):
            rest = package[len(prefix):].lstrip(".")
            return ROOT / str(folder) / rest.replace(".", "/")
    raise AssertionError(f"{package} is not under a package-dir mapping")


def test_every_folder_with_code_is_a_listed_package() -> None:
    listed = set(SETUPTOOLS["packages"])
    found = set()
    for prefix, folder in SETUPTOOLS["package-dir"].items():
        base = ROOT / folder
        for path in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            if "__pycache__" in path.parts or not any(path.glob("*.py")):
                continue
            found.add(".".join([prefix, *path.relative_to(base).parts]))
    assert found == listed


def test_every_data_file_is_package_data() -> None:
    data = SETUPTOOLS["package-data"]
    for package in SETUPTOOLS["packages"]:
        folder = _package_folder(package)
        patterns = data.get(package, [])
        for path in folder.iterdir():
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                assert any(fnmatch.fnmatch(path.name, p) for p in patterns), path
            if path.is_dir() and path.name == "templates":
                assert "templates/*" in patterns, path


def test_installed_modules_come_from_the_folders_under_one_root() -> None:
    import gpuscout.jobs.cli.main
    import gpuscout.models.storage.migrate as migrate

    assert Path(gpuscout.jobs.cli.main.__file__).resolve() == ROOT / "jobs" / "cli" / "main.py"
    assert migrate.script_location().resolve() == ROOT / "alembic"
    assert migrate.head_revision()
    # nothing is importable under the folders' bare names, which would collide with other code
    assert not {"scraper", "models", "jobs"} & {name.split(".")[0] for name in sys.modules}
