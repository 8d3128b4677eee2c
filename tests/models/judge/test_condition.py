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


@pytest.mark.parametrize(("text", "expected"), [
    # answers after the phrase
    ("Mining: no", {"never mined": 3}),
    ("Mined? No.", {"never mined": 3}),
    ("Mined: never", {"never mined": 3}),
    ("Condition: excellent\nMining: no\nBox: yes", {"great condition": 2, "never mined": 3,
                                                    "original box": 2}),
    ("Artifacts: none", {"no artifacts": 1}),
    ("Coil whine: none", {"no coil whine": 1}),
    ("Coil whine: minimal", {"coil whine": -2}),
    ("Issues? None. Overclocked? No.", {"no issues": 2, "never overclocked": 1}),
    ("Transferable warranty? No.", {}),
    ("Mining - no issues though", {"mined": -10, "no issues": 2}),
    ("Sold as is? No, it works", {}),
    # hedges
    ("Mined? Not to my knowledge.", {"mining history unknown": -3}),
    ("Bought it used, not sure if it was mined", {"mining history unknown": -3}),
    ("As far as I know, never mined", {"never mined": 1}),
    # heavy use
    ("Bought from a miner, it did 120 MH/s", {"mining farm": -12, "mined": -10}),
    ("Bought from a mining farm, repadded", {"mining farm": -12, "new thermal pads": 3}),
    ("Used for AI training 24/7 for the past year", {"heavy use": -8}),
    ("ran 24/7 in a render farm", {"heavy use": -8}),
    ("Available 24/7 for pickup, text me 24/7", {}),
    ("Was in my mining rig for 2 years, 24/7", {"mined": -10, "heavy use": -8}),
    # plain positives
    ("Works great, good condition", {"no issues": 2, "good condition": 1}),
    ("Fully functional, runs cool, well kept", {"no issues": 2, "great condition": 2}),
    # running hot now, not a problem fixed before the sale
    ("Card overheats and throttles in games", {"overheating": -5}),
    ("Karte überhitzt", {"overheating": -5}),
    ("never overheats", {"no overheating": 1}),
    ("It was overheating before the repad, now 70C", {}),
    ("Was thermal throttling, repadded, now perfect", {"new thermal pads": 3}),
    # damage
    ("Bent pin on the 12-pin connector", {"damaged": -5}),
    ("burnt 12-pin connector", {"damaged": -5}),
    # faults
    ("One of the fans stopped spinning", {"fan not spinning": -10}),
    ("fans stop spinning at idle", {}),
    ("Had one memory chip replaced at a repair shop", {"repaired": -8}),
    ("VRAM chip replaced, works", {"repaired": -8}),
    ("never been opened or repaired", {}),
    ("Fans make a grinding noise at high RPM", {"fan noise": -6}),
    # modifications
    ("EK block installed, stock cooler included", {"water block fitted": -3}),
    ("warranty sticker is broken, runs cool", {"opened": -2, "no issues": 2}),
    # German, French, Spanish
    ("neuwertig, OVP, Rechnung, nie gemined", {"like new": 2, "original box": 2, "receipt": 2,
                                              "never mined": 3}),
    ("Lüfter dreht nicht, sonst ok", {"fan not spinning": -10}),
    ("Bildfehler nach 10 Minuten, keine Garantie", {"artifacts": -12}),
    ("comme neuve, boîte d'origine, facture, jamais minée", {"like new": 2, "original box": 2,
                                                            "receipt": 2, "never mined": 3}),
    ("écran noir de temps en temps", {"crashes": -8}),
    ("très bon état, fonctionne parfaitement", {"great condition": 2, "no issues": 2}),
    ("como nueva, caja original, nunca minada", {"like new": 2, "original box": 2,
                                                "never mined": 3}),
    ("pantalla negra en juegos, ventilador no gira", {"crashes": -8, "fan not spinning": -10}),
    ("buen estado, sin problemas, factura", {"good condition": 1, "no issues": 2, "receipt": 2}),
])
def test_wording(text: str, expected: dict[str, int]) -> None:
    assert rules(text) == expected


def test_faults_are_marked_and_denied_faults_are_not() -> None:
    result = assess_condition("Artifacts under load, crashes in games, fans not spinning")
    assert [(s.rule, s.fault) for s in result.faults] == [
        ("artifacts", True), ("fan not spinning", True), ("crashes", True)]
    clean = assess_condition("No artifacts, never crashed, never repaired, not sold as is")
    assert clean.faults == ()
    assert [s.rule for s in assess_condition("Mined lightly, coil whine").faults] == []
    hedged = assess_condition("probably needs a reflow")
    assert [(s.rule, s.weight, s.fault) for s in hedged.signals] == [("repaired", -4, True)]
