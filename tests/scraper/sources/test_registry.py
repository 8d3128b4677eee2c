"""The source registry is the one list of marketplaces, and every registered source is tested.

Adding a marketplace without parser tests on pages of its own fails here (see CONTRIBUTING.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gpuscout.jobs.cli.main import cli
from gpuscout.jobs.config import parse_config
from gpuscout.scraper.sources import get_source, source_class
from gpuscout.scraper.sources.registry import LOCAL_SOURCES, NAMES, SOURCES, SourceInfo, info
from tests.support.pages import all_pages, read_page

HERE = Path(__file__).resolve().parent
#: the fewest parser tests on its own pages a registered source may have
MIN_OWN_PAGE_TESTS = 5


def _test_functions(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return [node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")]


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_source_has_parser_tests_on_its_own_pages(name: str) -> None:
    pages = [p for p in all_pages() if p.split("/")[0].split("-")[0] == name]
    assert pages, f"no own pages for {name!r} under tests/scraper/sources/pages/{name}/"
    module = HERE / f"test_{name}_pages.py"
    assert module.is_file(), f"{name!r} has no parser tests on its own pages ({module.name})"
    tests = _test_functions(module)
    assert len(tests) >= MIN_OWN_PAGE_TESTS, f"{module.name} holds {len(tests)} tests"
    source = get_source(name)
    for page in pages:
        assert source.sniff(read_page(page)), f"{name} does not recognise its own page {page}"


@pytest.mark.parametrize("entry", SOURCES, ids=lambda s: s.name)
def test_registry_entries_match_their_classes(entry: SourceInfo) -> None:
    registered = info(entry.name)
    cls = source_class(registered.name)
    assert cls.name == registered.name
    assert cls.default_base_url == registered.base_url
    assert registered.sample_url.startswith("https://")
    assert all(var.startswith("GPUSCOUT_") for var in registered.credentials.values())


def test_configuration_and_command_line_read_the_registry() -> None:
    cfg = parse_config({})
    assert tuple(cfg.sources) == NAMES
    for name in NAMES:
        assert cfg.sources[name].base_url == info(name).base_url.rstrip("/")
        assert cfg.sources[name].min_interval == info(name).min_interval
    for command in ("deals", "parse"):
        option = next(p for p in cli.commands[command].params if p.name == "source")
        assert tuple(option.type.choices) == NAMES  # type: ignore[attr-defined]
    assert {s.name for s in SOURCES if s.local} <= set(LOCAL_SOURCES)


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: ebay, reddit, craigslist, facebook"):
        info("myspace")
