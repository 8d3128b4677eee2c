"""Identification rules on real listing titles: model, variant, kind, quantity and evidence."""

from __future__ import annotations

from typing import Any

import pytest

from gpuscout.models.judge.catalog import DEFAULT, load_catalog, merge_catalog, normalize
from gpuscout.models.judge.identify import Identity, find_mentions, identify, stated_memory

# (title, model, variant, kind): real titles from the labelled set, one per rule.
REAL = [
    # model patterns, suffixes and word order
    ("NVIDIA GeForce RTX 4080 Super | MSI Ventus 3X OC 16GB GDDR6X Video Graphics Card",
     "rtx 4080 super", "partner", "card"),
    ("NVIDIA GEFORCE RTX 4080 16GB SUPER(OEM) GPU", "rtx 4080 super", "oem", "card"),
    ("Yeston GeForce RTX 4080 SUPER 16GB Sugar GDDR6X Gaming Graphics Card RTX 4080S",
     "rtx 4080 super", "partner", "card"),
    ("ASUS ROG ASTRAL RTX5090 32G OC WHITE Editions GDDR7 Brand New No Box", "rtx 5090",
     "partner", "card"),
    ("MSI GeForce RTX 5090 D 32G SUPRIM LIQUID SOC Graphics Card", "rtx 5090 d", "partner", "card"),
    ("ASUS ROG Strix GeForce RTX\ufffd 4090 Gaming Graphics Card (PCIe 4.0, 24GB GDDR6X,",
     "rtx 4090", "partner", "card"),
    ("Asus Rog 3090", "rtx 3090", "partner", "card"),
    ("nVidia 3090", "rtx 3090", "unknown", "card"),
    # "4070 Ti 16GB" only exists as the 4070 Ti SUPER
    ("ZOTAC Gaming GeForce RTX 4070 Ti 16GB GDDR6X NVIDIA", "rtx 4070 ti super", "partner", "card"),
    # keyword bait
    ("Gigabyte AORUS GeForce RTX 4090 XTREME WATERFORCE 24GB Graphics Card = 5090", "rtx 4090",
     "partner", "card"),
    # data-centre memory: stated, from the part number, conflicting, unstated
    ("Nvidia Tesla V100 16GB GPU Accelerator Graphics Card PCI-E Machine Learning",
     "tesla v100 16gb", "unknown", "card"),
    ("699-2G500-0200-300 NVIDIA TESLA V100 VOLTA GPU ACCELERATOR", "tesla v100 16gb", "unknown",
     "card"),
    ("Nvidia Tesla V100 16GB HBM2 Video Graphics Card SXM2 900-2G503-0010-000", "tesla v100 16gb",
     "unknown", "card"),
    ("NVIDIA Tesla V100 12GB HBM2 PCI-E GPU CUDA Card mining Card  16GB neutered 4GB",
     "tesla v100", "unknown", "card"),
    ("NVIDIA TESLA Volta V100S 32GB HBM2 PCIe GPU Accelerator Card 699-2G500-0212-400",
     "tesla v100s 32gb", "unknown", "card"),
    ("NVIDIA Tesla A100 40GB PCI-e OEM version GPU Computing Graphics Card SXM4 Driver",
     "a100 40gb", "unknown", "card"),
    # several models
    ("Full Height Bracket for NVIDIA Tesla K80 K40 M40 M60 P40 P100 V100", "multiple", "unknown",
     "accessory"),
    ("NVIDIA AMPERE NVLINK BRIDGE 3-SLOT for RTX A6000 RTX A5000", "multiple", "unknown",
     "accessory"),
    # Founders Edition markers
    ("NVIDIA - GeForce RTX 4090 24GB GDDR6X Graphics Card - Titanium/Black", "rtx 4090", "fe",
     "card"),
    ("NVIDIA GeForce RTX 5090 32GB GDDR7 Graphics Card Dark Gun Metal Brand New", "rtx 5090",
     "fe", "card"),
    ("NVIDIA GeForce RTX 4080 16GB GDDR6X 3-Slot Founder GPU Turbo Graphics Card", "rtx 4080",
     "fe", "card"),
    ("NVIDIA GeForce RTX 4080 FE w/Granzon Full Armor Waterblock and OEM Heatsink", "rtx 4080",
     "fe", "card"),
    # a Founders claim contradicted by an OEM claim is unknown
    ("GEFORCE RTX 5090 32GB Founders Edition 2 slots Deep Learning Graphics Card OEM", "rtx 5090",
     "unknown", "card"),
    # OEM: names, part numbers, pulls
    ("NVIDIA GeForce RTX 4090 24GB GDDR6X Graphics Card-Dell Alienware R15 pull G8V6C",
     "rtx 4090", "oem", "card"),
    ("Acer Predator NVIDIA GeForce RTX 4080 16GB GDDR6X 288-1N702-100A8 Graphics Card",
     "rtx 4080", "oem", "card"),
    ("NVIDIA Tesla V100 FHHL Graphic Card 16GB HBM2 GPU PCIe Q8Z50A - Reference Model",
     "tesla v100 16gb", "oem", "card"),
    ("Dell Genuine NVIDIA GeForce RTX 4080 16GB GDDR6X Graphics Card 0RRMCK", "rtx 4080", "oem",
     "card"),
    # partner lines and misspellings
    ("GALAXY  GeForce RTX 5090 D HOF OC LAB XOC Graphics Card", "rtx 5090 d", "partner", "card"),
    ("PNY NVIDIA RTX A5000 24GB GDDR6 Graphics Card - NEW!!!   Sealed !!!! - OFFER !",
     "rtx a5000", "partner", "card"),
    # kinds
    ("ASUS ROG Strix NVIDIA GeForce RTX 4090 24GB GDDR6X Gaming NO PBC!!!", "rtx 4090", "partner",
     "accessory"),
    ("nvidia geforce rtx 4090 24gb gddr6x graphics card NO PCB HOUSING ONLY NONWORKING",
     "rtx 4090", "unknown", "accessory"),
    ("MSI GeForce RTX 4090 SUPRIM LIQUID X heatsink and fans - NO Graphics Card", "rtx 4090",
     "partner", "accessory"),
    ("GeForce RTX 5090 GPU Graphic Card Bracket Adjustable Support Sag Holder USA Made",
     "rtx 5090", "unknown", "accessory"),
    ("ZOTAC GeForce RTX 4080 SUPER Trinity Black 16GB GDDR6X GPU NO HEATSINK/COOLER",
     "rtx 4080 super", "partner", "parts"),
    ("ASUS TUF Gaming GeForce RTX 4090 OC 24GB GDDR6X Graphics Card - AS IS", "rtx 4090",
     "partner", "parts"),
    ("ZOTAC GAMING GeForce Nvidia RTX 5080 SOLID OC 16GB. Not working", "rtx 5080", "partner",
     "parts"),
    ("⚠️PARTS⚠️NVIDIA Tesla V100 32GB SXM2", "tesla v100 32gb", "unknown", "parts"),
    ("NVIDIA Tesla V100 16GB PCIE Graphics Card Part", "tesla v100 16gb", "unknown", "card"),
    ("BOX ONLY - PNY GeForce RTX 5090 32GB GDDR7 OC *BOX & WARRANTY CARD ONLY!*", "rtx 5090",
     "partner", "box_only"),
    ("NEW NVIDIA GeForce RTX 5080 FE Founders Edition 16GB GDDR7 Graphics Card  ONLY!",
     "rtx 5080", "fe", "card"),
    ("L💎💎K! ASUS TUF NVIDIA GeForce RTX 5090 32GB GDDR7 Mobo Bundle! - FAST SHIP!", "rtx 5090",
     "partner", "bundle"),
    ("NVIDIA GeForce RTX 5080 Founders Edition 16GB GDDR7 w/ Borderlands 4 Steam Game",
     "rtx 5080", "fe", "card"),
    ("NVIDIA Tesla V100 SXM3 32GB HBM2 Accelerator Card GPU w/ 3U Heatsink".replace(
        "NVIDIA ", "Nvidia "), "tesla v100 32gb", "unknown", "card"),
    ("Heatsink for SXM2 GPU NVIDIA Tesla P100/V100 16/32GB  699-2G503-0204-20", "multiple",
     "unknown", "accessory"),
    # Reddit [H]/[W]
    ("[USA-NY][H] Rtx 3090 Founders Edition and Meta Quest 2 256gb [W] Paypal or Local Cash",
     "rtx 3090", "fe", "card"),
    ("[USA-CO][H]Pay Pal Goods and Services [W] Intel ARC A770 16GB", "arc a770", "unknown",
     "wanted"),
    ("[USA-ID] [H] PayPal [W] ASUS ROG Strix 2080 ti or 3060ti", "multiple", "partner", "wanted"),
    ("[USA-AR] [H] Paypal [W] Mini-ITX Motherboard/CPU combo", "none", "unknown", "wanted"),
    ("[USA-TX][H] Asus G14 (5900hs, RTX 3060, 16gb Ram, 1tb ssd), Paypal, Cash [W] Macbook pro 13,"
     " 14, or 16, paypal, cash", "rtx 3060 laptop", "unknown", "system"),
    ("[USA-MI] [H] 2018 Macbook Air 13\" [W] Paypal", "none", "unknown", "system"),
    ("[USA-NJ] [H] Ryzen 7 5800X3D [W] Paypal", "none", "unknown", "other"),
    ("[USA-FL] [H] Brocade ICX 6650, Brocade ICX 7150-C12P, Unifi USG-XG-16, Unifi US-48-G1 [W] "
     "Local Cash, PayPal", "none", "unknown", "other"),
]


@pytest.mark.parametrize(("title", "model", "variant", "kind"), REAL)
def test_real_titles(title: str, model: str, variant: str, kind: str) -> None:
    got = identify(title)
    assert (got.model, got.variant, got.kind) == (model, variant, kind), got.evidence


def test_real_titles_carry_their_labels(dev_by_title: dict[str, dict[str, Any]]) -> None:
    labelled = [t for t, *_ in REAL if t in dev_by_title]
    assert len(labelled) >= 45
    for title, model, variant, kind in REAL:
        if title in dev_by_title:
            row = dev_by_title[title]
            assert (row["model"], row["variant"], row["kind"]) == (model, variant, kind)


def test_marketplace_condition_makes_parts_and_no_pcb_stays_accessory() -> None:
    title = "Galaxy Geforce RTX 4090 HOF OC LAB PLUS 24GB HALL OF FAME Graphics card"
    assert identify(title, condition="For parts or not working").kind == "parts"
    assert identify(title, condition="Used").kind == "card"
    shell = "MSI GeForce RTX 4090 GAMING X TRIO 24GB GDDR6X Graphics Card NO PCB"
    assert identify(shell, condition="For parts or not working").kind == "accessory"


def test_flairs() -> None:
    assert identify("February Confirmed Trade Thread", flair="OFFICIAL") == Identity(
        "none", "unknown", "other", 1, ("kind: flair 'OFFICIAL'",))
    wanted = identify("[USA-RI] [H] PayPal [W] Sliger Cerberus (or equivalent ATX SFF)",
                      flair="BUYING")
    assert (wanted.model, wanted.kind) == ("none", "wanted")
    assert identify("RTX 3090 FE", flair="BUYING").kind == "wanted"


def test_hardwareswap_capture(hardwareswap_posts: list[dict[str, Any]]) -> None:
    got = {p["title"]: identify(p["title"], p["selftext"], flair=p["link_flair_text"])
           for p in hardwareswap_posts}
    assert len(got) == 27
    fe = got["[USA-NY][H] Rtx 3090 Founders Edition and Meta Quest 2 256gb [W] Paypal or Local Cash"]
    assert (fe.model, fe.variant, fe.kind, fe.quantity) == ("rtx 3090", "fe", "card", 1)
    red_devil = got["[USA-NJ] [H] PowerColor Red Devil Radeon RX 6900 XT [W] Local-Cash / "
                    "PayPal-Shipped."]
    assert (red_devil.model, red_devil.variant, red_devil.kind) == ("rx 6900 xt", "partner", "card")
    buying = [p["title"] for p in hardwareswap_posts if p["link_flair_text"] == "BUYING"]
    assert len(buying) == 6
    assert all(got[t].kind == "wanted" for t in buying)
    gpus = sorted((i.model, i.kind) for i in got.values() if i.model != "none")
    assert gpus == [("arc a770", "wanted"), ("multiple", "system"), ("multiple", "wanted"),
                    ("multiple", "wanted"), ("rtx 3060 laptop", "system"), ("rtx 3090", "card"),
                    ("rx 6900 xt", "card")]


def test_trade_sides() -> None:
    sells = identify("[USA-TX] [H] 3070 [W] 3090, PayPal")
    assert (sells.model, sells.kind) == ("rtx 3070", "card")
    buys = identify("[USA-TX] [H] PayPal [W] 3090 FE")
    assert (buys.model, buys.variant, buys.kind) == ("rtx 3090", "fe", "wanted")
    assert identify("WTB RTX 3090 Founders Edition").kind == "wanted"
    assert identify("Looking for an RTX 3090, local only").kind == "wanted"
    assert identify("RTX 3090 FE - looking for $700 shipped").kind == "card"


def test_quantities() -> None:
    lot = identify("** LOT OF 2 Nvidia GeForce RTX 5090 32GB GDDR7 Founders Edition Video Card **")
    assert (lot.kind, lot.quantity, lot.variant) == ("bundle", 2, "fe")
    pair = identify("2x RTX 3090 Founders Edition")
    assert (pair.kind, pair.quantity) == ("bundle", 2)
    assert "quantity: '2x'" in pair.evidence
    # cooler names are not counts
    for title in ("MSI Ventus 3X OC GeForce RTX 4080 16GB RAM - Graphics Card - Excellent Condition",
                  "Gigabyte GeForce RTX 4090 Gaming OC 24G Graphics Card, 3X WINDFORCE Fans, 24GB",
                  "Inno3D iChill RTX 3090 X4"):
        assert identify(title).quantity == 1
        assert identify(title).kind == "card"


def test_evidence_names_the_deciding_phrases() -> None:
    got = identify("NVIDIA GeForce RTX 3090 Founders Edition 900-1G136-2510-000")
    assert got.evidence == ("model: 'nvidia geforce rtx 3090', '900-1g136-2510-000'",
                            "variant: 'founders edition'")
    assert got.to_dict() == {"model": "rtx 3090", "variant": "fe", "kind": "card", "quantity": 1,
                             "evidence": list(got.evidence)}
    assert identify("NVIDIA 900-1G136-2510-000 24GB").model == "rtx 3090"


def test_amd_reference_and_other_vendors() -> None:
    assert identify("AMD Radeon RX 7900 XTX Reference (MBA) 24GB").variant == "fe"
    assert identify("Sapphire Pulse AMD Radeon RX 7900 XTX 24GB").variant == "partner"
    assert identify("XFX Speedster MERC 310 7900XT").model == "rx 7900 xt"
    # a bare number is not a Radeon, and a CPU is not a GPU
    assert identify("Ryzen 5 5600X and 6800 MHz RAM").model == "none"
    assert identify("ASRock Intel Arc B580 Challenger OC").model == "arc b580"
    assert identify("RTX 3070 laptop GPU MXM").model == "rtx 3070 laptop"
    assert identify("RTX 3070 laptop GPU MXM").kind == "card"


@pytest.mark.parametrize(("title", "variant"), [
    ("RTX 5070 Ti Prime OC 16GB", "partner"),
    ("Dual GeForce RTX 4060 Ti OC 8GB", "partner"),
    ("RTX 3060 Mech 2X OC 12GB", "partner"),
    ("RTX 4070 Twin Edge OC", "partner"),
    ("RTX 3080 Phoenix GS 10GB", "partner"),
    ("RX 7800 XT Pulse 16GB", "partner"),
    ("Merc 310 RX 7900 XTX", "partner"),
    # plain words are not product lines
    ("RTX 3090 FE impulse buy, prime condition", "fe"),
    ("RTX 3090 FE - dual slot, mechanically perfect", "fe"),
])
def test_product_lines_without_their_maker(title: str, variant: str) -> None:
    assert identify(title).variant == variant


@pytest.mark.parametrize(("title", "variant", "kind", "quantity"), [
    ("Need a 3090 for AI - will pay cash", "unknown", "wanted", 1),
    ("need 3090 fe asap", "fe", "wanted", 1),
    ("Need gone: RTX 3090 FE", "fe", "card", 1),
    ("Two RTX 3090 FEs", "fe", "bundle", 2),
    ("RTX 3090 FE no fees", "fe", "card", 1),
    ("RTX 3090 FE & 850W PSU", "fe", "bundle", 1),
    ("RTX 3090 FE + Corsair power supply cable", "fe", "card", 1),
    ("RTX 3090 FE (PSU not included)", "fe", "card", 1),
])
def test_needs_plural_editions_and_power_supplies(title: str, variant: str, kind: str,
                                                  quantity: int) -> None:
    got = identify(title)
    assert (got.model, got.variant, got.kind, got.quantity) == ("rtx 3090", variant, kind, quantity)


def test_mentions_and_memory() -> None:
    text = normalize("RTX 4070 Ti SUPER vs RTX 4080")
    assert [m.spec.name for m in find_mentions(text)] == ["rtx 4070 ti super"]
    assert stated_memory(normalize("V100 16/32GB 699")) == {16, 32}
    assert stated_memory(normalize("16gb Ram, 1tb ssd, 512GB SSD")) == {16}


def test_catalog_is_extended_by_configuration() -> None:
    title = "AMD Radeon Pro W7900 48GB Acme Edition"
    assert identify(title).model == "none"
    extra = {"model": [{"name": "radeon pro w7900", "patterns": [r"(?:radeon\s*)?pro\s*w7900"]}],
             "variant": {"partner": ["acme"]}}
    catalog = merge_catalog(DEFAULT, extra)
    got = identify(title, catalog=catalog)
    assert (got.model, got.variant, got.kind) == ("radeon pro w7900", "partner", "card")
    assert len(catalog.models) == len(DEFAULT.models) + 1
    assert load_catalog().model("rtx 3090") is not None
    assert DEFAULT.band("rtx 3090") is not None


@pytest.mark.parametrize(("title", "model", "variant", "kind"), [
    # wanted words on every marketplace
    ("WANT: RTX 3090 FE", "rtx 3090", "fe", "wanted"),
    ("Want RTX 4080 local", "rtx 4080", "unknown", "wanted"),
    ("ISO 3090 Founders", "rtx 3090", "fe", "wanted"),
    ("LF 3090 FE", "rtx 3090", "fe", "wanted"),
    ("Looking to buy 3080", "rtx 3080", "unknown", "wanted"),
    ("Paying cash for RTX 3090", "rtx 3090", "unknown", "wanted"),
    ("[CAN-AB] [H] Cash [W] GPU", "none", "unknown", "wanted"),
    ("Want to sell my RTX 3090 FE", "rtx 3090", "fe", "card"),
    # systems: a computer with the card, a maker's desktop, a CPU with memory or storage
    ("PC w/ RTX 3090", "rtx 3090", "unknown", "system"),
    ("Custom Desktop w/ 3090 FE", "rtx 3090", "unknown", "system"),
    ("HP OMEN 45L Gaming Desktop RTX 4090 i9-13900K", "rtx 4090", "unknown", "system"),
    ("Alienware Aurora R12 RTX 3090 i9-11900KF", "rtx 3090", "unknown", "system"),
    ("RTX 4070 Ti 7800X3D 32GB DDR5", "rtx 4070 ti", "unknown", "system"),
    ("Gigabyte RTX 3060 12GB Gaming OC pulled from gaming PC", "rtx 3060", "partner", "card"),
    ("NVIDIA RTX 4080 16GB Graphics Card pulled from Alienware R15", "rtx 4080", "oem", "card"),
    # bundles, and a trade post's items listed apart
    ("RTX 3090 + Z590 motherboard", "rtx 3090", "unknown", "bundle"),
    ("i7-12700K + Z690 Motherboard + RTX 3070", "rtx 3070", "unknown", "bundle"),
    ("[USA-OH] [H] RTX 3090 FE, Ryzen 7 5800X3D, B550 Motherboard [W] PayPal", "rtx 3090", "fe",
     "card"),
    ("[CAN-ON] [H] RTX 3060 Ti, Ryzen 5 5600X, 16GB DDR4 [W] Local Cash", "rtx 3060 ti",
     "unknown", "card"),
    # a card with a water block fitted and its cooler in the box; a broken seal; a picture
    ("RTX 3090 FE - EK Waterblock, original cooler included", "rtx 3090", "fe", "card"),
    ("EK-Quantum Vector RTX 3090 FE D-RGB Water Block", "rtx 3090", "fe", "accessory"),
    ("RTX 3090 FE - warranty seal broken", "rtx 3090", "fe", "card"),
    ("NVIDIA RTX 3090 FE - Lüfter dreht nicht", "rtx 3090", "fe", "card"),
    ("Photo of RTX 3090 Founders Edition", "rtx 3090", "unknown", "other"),
    ("NVIDIA RTX 3090 Founders Edition - Photo Only - Read Description", "rtx 3090", "unknown",
     "other"),
    ("EVGA RTX 3080 XC3 Ultra - Actual photos", "rtx 3080", "partner", "card"),
    # laptop parts
    ("NVIDIA RTX A5000 16GB GDDR6", "rtx a5000 laptop", "unknown", "card"),
    ("NVIDIA RTX A5000 24GB GDDR6", "rtx a5000", "unknown", "card"),
    ("NVIDIA GeForce RTX 3080 Laptop GPU 16GB MXM N18E-G3R", "rtx 3080 laptop", "unknown", "card"),
    ("Dell NVIDIA RTX A3000 12GB MXM GPU for Precision 7760", "rtx a3000 laptop", "oem", "card"),
    ("GeForce RTX 2080 Super Max-Q 8GB MXM module", "rtx 2080 super laptop", "unknown", "card"),
    ("NVIDIA Quadro RTX 5000 16GB Max-Q", "quadro rtx 5000 laptop", "unknown", "card"),
    # one model named twice; two models apart stay two
    ("MSI GeForce RTX 4080 SUPER 16G VENTUS 3X - RTX 4080", "rtx 4080 super", "partner", "card"),
    ("RTX 3080 Ti FE 12GB - RTX 3080", "rtx 3080 ti", "fe", "card"),
    ("[USA-VA] [H] 3090 FE, 3090 Ti FE [W] PayPal", "multiple", "fe", "card"),
    # AMD's own reference cards
    ("AMD Radeon RX 6900 XT Reference Card 16GB", "rx 6900 xt", "fe", "card"),
    ("[CAN-BC] [H] 6800XT reference [W] cash", "rx 6800 xt", "fe", "card"),
    ("AMD Radeon RX 6800 XT 16GB GDDR6 Graphics Card", "rx 6800 xt", "unknown", "card"),
])
def test_kinds_and_models(title: str, model: str, variant: str, kind: str) -> None:
    got = identify(title)
    assert (got.model, got.variant, got.kind) == (model, variant, kind), got.evidence


@pytest.mark.parametrize(("title", "quantity"), [
    ("[USA-OR] [H] RTX 3090 FE x2 [W] PayPal", 2),
    ("RTX 3070 Ti 8GB x 2", 2),
    ("ZOTAC GeForce RTX 3070 Twin Edge OC 8GB x2", 2),
    ("2 x EVGA RTX 3060 XC 12GB", 2),
    ("2 RTX 3090 Founders Edition cards", 2),
    ("Radeon RX 580 8GB x3 mining lot", 3),
    ("Inno3D GeForce RTX 3070 Twin X2 OC 8GB", 1),
    ("Inno3D iChill X4 RTX 3080 10GB", 1),
    ("RTX 3090 Founders Edition - 2 available", 1),
    ("NVIDIA GeForce RTX 3090 24GB Founders Edition - 1 of 2 available", 1),
    ("PCIe 4 RTX 3090 Founders Edition", 1),
])
def test_quantities_after_and_around_the_model(title: str, quantity: int) -> None:
    got = identify(title)
    assert got.quantity == quantity, got.evidence
    assert got.kind == ("bundle" if quantity > 1 else "card")


def test_items_of_a_multi_gpu_post() -> None:
    got = identify("[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3, RX 6800 XT [W] PayPal",
                   "- RTX 3090 Founders Edition - $690 shipped\n"
                   "- EVGA RTX 3080 FTW3 Ultra - $480 shipped\n"
                   "- AMD RX 6800 XT reference - $430 shipped\n")
    assert (got.model, got.kind) == ("multiple", "card")
    assert [(i.model, i.variant, str(i.price), i.shipped) for i in got.items] == [
        ("rtx 3090", "fe", "690", True), ("rtx 3080", "partner", "480", True),
        ("rx 6800 xt", "fe", "430", True)]
    assert got.to_dict()["items"][0]["price"] == "690"
    assert any(e.startswith("items: rtx 3090 fe") for e in got.evidence)


def test_an_item_takes_the_title_maker_when_its_line_names_none() -> None:
    got = identify("[USA-TX] [H] RTX 3090 FE, i9-10900K [W] PayPal",
                   "3090: 700 shipped\ni9-10900K: 220")
    assert [(i.model, i.variant, str(i.price)) for i in got.items] == [
        ("rtx 3090", "fe", "700"), ("none", "unknown", "220")]
    assert identify("RTX 3090 FE", "Works great, $700 shipped. Paid $1499.").items == ()
    # a post whose priced lines name no GPU keeps no items
    assert identify("RTX 3090 FE", "Timestamps below.\nLocal: $650").items == ()
