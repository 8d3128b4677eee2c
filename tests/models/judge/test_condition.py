"""Condition phrases on real listing text: good and bad signals, negations, memory temperatures."""

from __future__ import annotations

from typing import Any

import pytest

from gpuscout.models.judge.condition import assess_condition, is_negated


def rules(text: str) -> dict[str, int]:
    return {s.rule: s.weight for s in assess_condition(text).signals}


def test_hardwareswap_bodies(hardwareswap_posts: list[dict[str, Any]]) -> None:
    def body(start: str) -> str:
        return str(next(p["selftext"] for p in hardwareswap_posts if p["title"].startswith(start)))

    fe = rules(body("[USA-NY][H] Rtx 3090 Founders Edition"))
    assert fe == {"original box": 2, "gaming only": 2}
    devil = rules(body("[USA-NJ] [H] PowerColor Red Devil"))
    assert devil == {"gaming only": 2, "great condition": 2}
    cpu = assess_condition(body("[USA-CA] [H] AMD Ryzen 9 5950X"))
    assert [s.rule for s in cpu.signals] == ["no issues", "original box"]
    assert cpu.bad == ()


@pytest.mark.parametrize(("text", "expected"), [
    # real titles from the labelled set
    ("NVIDIA GeForce RTX 5090 FE Founders Edition 32GB - NEW SEALED plus RECEIPT",
     {"new": 3, "receipt": 2}),
    ("NVIDIA GeForce RTX 4090 Founders Edition 24GB GDDR6X 🔥 3Yr Warranty + Invoice",
     {"warranty": 3, "receipt": 2}),
    ("NVIDIA Tesla V100  HBM2 12GB PCI-E GPU CUDA Card mining Card", {"mined": -10}),
    ("ASUS TUF Gaming GeForce RTX 4090 OC 24GB GDDR6X Graphics Card - AS IS", {"as is": -10}),
    ("ZOTAC GAMING GeForce Nvidia RTX 5080 SOLID OC 16GB. Not working", {"broken": -15}),
    ("NVIDIA GeForce RTX 4080 Founders Edition – 16GB GDDR6X – Pristine Condition –",
     {"like new": 2}),
    ("Nvidia GeForce RTX 5080 16GB GDDR7 FE Founders Edition - NEW/Damaged Box IN HAND", {}),
    ("NVIDIA GeForce RTX 4080 16GB GDDR6X OEM Graphics Card GPU Tested", {"tested": 2}),
    # seller phrasing of each rule
    ("New thermal pads and repasted with PTM7950, never mined, gaming only, non-smoking home",
     {"new thermal pads": 3, "repasted": 2, "never mined": 3, "gaming only": 2,
      "non-smoking": 2}),
    ("Stress tested in 3DMark Time Spy, 2 years warranty remaining",
     {"tested": 2, "warranty": 3}),
    ("Lightly mined for a few months, undervolted", {"lightly mined": -5}),
    ("Was used for mining", {"mined": -10}),
    ("Has artifacts in games and crashes to desktop", {"artifacts": -12, "crashes": -8}),
    ("Card was repaired (reflowed) last year", {"repaired": -8}),
    ("One fan rattles at low rpm", {"fan noise": -6}),
    ("Slight coil whine under load", {"coil whine": -2}),
    ("Shunt modded and BIOS flashed to the 1000W XOC", {"shunt mod": -6, "bios flashed": -4}),
    ("EK waterblock only, no stock cooler", {"no stock cooler": -8}),
    ("Untested, sold as is", {"untested": -3, "as is": -10}),
    ("dead, no display", {"broken": -15}),
    # negations are not penalties; some are bonuses
    ("Never mined", {"never mined": 3}),
    ("Not used for mining", {"never mined": 3}),
    ("No artifacts, no coil whine, zero issues, never overclocked",
     {"no artifacts": 1, "no coil whine": 1, "no issues": 2, "never overclocked": 1}),
    ("No crashes and no fan noise", {"no crashes": 1, "quiet fans": 1}),
    ("no warranty, no box", {}),
    ("Not broken, just upgraded", {}),
])
def test_rules(text: str, expected: dict[str, int]) -> None:
    assert rules(text) == expected


def test_negation_stops_at_the_clause() -> None:
    assert rules("no box, mined for 6 months") == {"mined": -10}
    text = "never had issues, but it was mined"
    assert is_negated(text, text.index("mined")) is False
    assert is_negated("artifact-free", 0, len("artifact")) is True
    assert rules("artifact-free and crash free") == {"no artifacts": 1, "no crashes": 1}


@pytest.mark.parametrize(("text", "temp", "rule"), [
    ("mem junction temps 86C while gaming", 86, "memory temperature ok"),
    ("VRAM 100°C under load", 100, "memory temperature high"),
    ("Memory junction temperature peaks at 104 C", 104, "memory temperature high"),
    ("vram temp 94c", 94, None),
])
def test_memory_temperatures(text: str, temp: int, rule: str | None) -> None:
    result = assess_condition(text)
    assert result.junction_temp_c == temp
    assert [s.rule for s in result.signals if "temperature" in s.rule] == ([rule] if rule else [])


def test_result_properties() -> None:
    result = assess_condition("Never mined but has coil whine")
    assert [s.rule for s in result.good] == ["never mined"]
    assert [s.rule for s in result.bad] == ["coil whine"]
    assert result.net == 1
    assert result.evidence == ("never mined: 'never mined'", "coil whine: 'coil whine'")
    assert assess_condition(None).signals == ()
