"""Reading the asking price of a Reddit trade post from its free-text body, matched to the GPU."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from gpuscout.scraper import text_prices
from gpuscout.scraper.errors import PriceError
from gpuscout.scraper.money import detect_currency, parse_amount
from gpuscout.scraper.text_prices import Amount, kind, lead, split_runs, tail, unmark

_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SYM = r"US\s?\$|USD|C\s?\$|CA\$|CAD|AU\s?\$|A\$|AUD|NZ\$|EUR|GBP|\$|£|€"
# NOTE: four ways posts state an amount: "$700" (symbol first, optional "$50-75" range),
# "700$" / "700 €" (symbol after, never when a "$<digit>" follows: "07605 $575" is a zip code
# and a price), "asking 650" (bare number after a price word) and "650 shipped" (bare number
# before a shipping/local/offer word). Each starts after a non-alphanumeric character with a
# digit, a currency symbol or code, or a cue word: the leading test of just that spares trying
# the four alternatives at most positions of a line.
_MENTION = re.compile(
    rf"(?<![A-Za-z0-9])(?=[\dUCANEGPLSO$£€])(?:"
    rf"(?<![A-Za-z0-9])(?P<sym1>{_SYM})\s?(?P<num1>{_NUM})"
    rf"(?:\s?[-–]\s?\$?(?P<hi1>\d+(?:\.\d{{1,2}})?)(?![\w.,]))?"
    rf"|(?<![\w.,/#@-])(?P<num2>{_NUM})\s?(?P<sym2>(?:\$|£|€)(?!\s?\d)|(?:USD|CAD|AUD|EUR|GBP"
    rf"|dollars?|bucks)\b)"
    rf"|(?P<cue>\b(?:asking(?:\s+price)?(?:\s+(?:is|for))?|price[d]?(?:\s+(?:is|at))?\s*:?"
    rf"|looking\s+for|(?:sell|selling|let\s+(?:it|them)\s+go|go)\s+(?:it\s+|them\s+)?for"
    rf"|shipped\s*:|local\s*:|obo\s*:)\s*)(?P<num3>\d{{2,5}}(?:\.\d{{1,2}})?)(?![\w.,%])"
    rf"|(?<![\w.,/#@$£€-])(?P<num4>\d{{2,5}}(?:\.\d{{1,2}})?)(?=\s*(?:shipped|shipping|local"
    rf"|obo|o\.b\.o|firm|each\b|ea\b|\+\s*ship|plus\s+ship|or\s+best|picked\s+up|pick\s*-?up)))",
    re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# NOTE: "$2k", "9700k", "$100's", "$1e9" are not asking prices; neither are amounts that quote a
# retail price, what the seller paid, or a buyer's budget.
_NOT_PRICE_AFTER = re.compile(r"\s?[kK]\b|[’']?s\b|e[+-]?\d|\s*(?:new\b|msrp|retail|off\b|value)",
                              re.IGNORECASE)
_NOT_PRICE_BEFORE = re.compile(
    r"\b(?:msrp|retail|paid|bought|purchased|originally|orig|worth|value|budget|cost\s+me"
    r"|spent|sells\s+for|sold\s+for|goes\s+for|going\s+(?:rate|price)|ebay|amazon|new\s+(?:for"
    r"|at|is)|cheaper|less\s+than|under|below|market|save|saving)\b", re.IGNORECASE)
# "RTX 3090 FE: 700", "3090 FE = 700": a bare amount after a label, read on a line naming a GPU
_LABELLED = re.compile(r"[:=|]\s*(\d{2,5}(?:\.\d{1,2})?)(?=\s*(?:$|[,.;)]|shipped|shipping|obo|firm"
                       r"|local|each|ea\b|\+|plus|or\b))", re.IGNORECASE)
_SHIP_AMOUNT_GAP = re.compile(r"^\s*(?:\+|plus)\s*$", re.IGNORECASE)
_SHIP_AMOUNT_TAIL = re.compile(r"^\s*(?:for\s+)?(?:shipping|ship|s/h|s&h)\b", re.IGNORECASE)
_SOLD_LINE = text_prices.SOLD
_OBO = text_prices.OBO
_HAVE_TAG = re.compile(r"\[\s*h\s*\]", re.IGNORECASE)
_WANT_TAG = re.compile(r"\[\s*w\s*\]", re.IGNORECASE)
_WINDOW = text_prices.WINDOW
_MAX_BODY = 60_000


@dataclass(frozen=True, slots=True)
class BodyPrice:
    """What a post asks: ``price`` shipped when stated, else the only/first stated amount;
    ``price_local`` a stated pickup price; ``shipping`` 0 when "shipped", None when unknown."""

    price: Decimal | None = None
    price_local: Decimal | None = None
    price_max: Decimal | None = None
    shipping: Decimal | None = None
    currency: str | None = None
    best_offer: bool = False
    #: True when the price was matched to a graphics card named beside it
    for_gpu: bool = False
    #: True when the post states the price per item ("$700 shipped each")
    each: bool = False


@dataclass(slots=True)
class _Mention(Amount):
    high: Decimal | None
    currency: str | None
    kind: str = ""  # "shipped", "plus", "local" or ""
    obo: bool = False
    shipping: Decimal | None = None
    each: bool = False


@dataclass(slots=True)
class _Group:
    mentions: list[_Mention]
    context: str
    own_text: str


def read_body_price(title: str, body: str, *, currency: str | None = None,
                    wanted: bool = False) -> BodyPrice:
    """The price a post asks for its graphics card, or for its only item. Never raises.

    ``currency`` is what a bare "$" means in this subreddit. Wanted posts carry no price:
    what a buyer offers is a budget.
    """
    text = f"{title}\n{body}"
    best_offer = bool(_OBO.search(text[:_MAX_BODY]))
    if wanted:
        return BodyPrice(best_offer=best_offer)
    have = have_part(title)
    groups = _groups(body[:_MAX_BODY], currency) or _groups(have, currency)
    if not groups:
        return BodyPrice(best_offer=best_offer)
    models = _models(have)
    chosen: _Group | None = None
    for_gpu = False
    for group in groups:
        if is_gpu_text(group.context, models):
            chosen, for_gpu = group, True
            break
    if chosen is None:
        first = groups[0]
        title_gpu = is_gpu_text(have, ())
        if len(groups) == 1:
            chosen, for_gpu = first, title_gpu
        elif title_gpu and not is_strong(first.own_text):
            # NOTE: "[H] EVGA 3080 FTW3" then a bare "$600 shipped" before other items: the
            # first unlabelled amount belongs to the item the title leads with.
            chosen, for_gpu = first, True
    if chosen is None:
        return BodyPrice(best_offer=best_offer)
    return _price_of(chosen, best_offer, for_gpu)


def _price_of(group: _Group, best_offer: bool, for_gpu: bool) -> BodyPrice:
    mentions = group.mentions
    shipped = [m for m in mentions if m.kind == "shipped"]
    plain = [m for m in mentions if m.kind in ("", "plus")]
    local = [m for m in mentions if m.kind == "local"]
    main = (shipped or plain or local)[0]
    if main.kind == "shipped":
        shipping: Decimal | None = Decimal("0.00")
    elif main.kind == "plus" or main.kind == "":
        shipping = main.shipping
    else:
        shipping = None
    return BodyPrice(
        price=main.value, price_local=local[0].value if local else None, price_max=main.high,
        shipping=shipping, currency=main.currency,
        best_offer=best_offer or any(m.obo for m in mentions), for_gpu=for_gpu, each=main.each)


def _groups(body: str, currency: str | None) -> list[_Group]:
    """Price groups: the amounts stated for one item (its local/shipped variants together)."""
    groups: list[_Group] = []
    unpriced: list[str] = []  # lines since the last priced line
    last_priced_index = -10
    index = 0  # counts non-blank lines: a blank line does not part a price from its variant
    for line in plain_lines(body):
        if not line.strip():
            continue
        index += 1
        mentions = _mentions(line, currency)
        # NOTE: every form of the mark spells "sold" in some case; casefold() finds it in C
        if mentions and "sold" in line.casefold() and _SOLD_LINE.search(line):
            unpriced.clear()
            last_priced_index = -10
            continue
        if not mentions:
            unpriced.append(line)
            continue
        line_groups = _split_line(line, mentions)
        head = line_groups[0]
        adjacent = last_priced_index == index - 1 and groups
        if adjacent and not is_strong(head.own_text):
            groups[-1].mentions.extend(head.mentions)
            line_groups = line_groups[1:]
        elif not is_strong(head.own_text):
            head.context = " ".join([*unpriced[-3:], head.context])
        groups.extend(line_groups)
        unpriced.clear()
        last_priced_index = index
    return groups


def _split_line(line: str, mentions: list[_Mention]) -> list[_Group]:
    """The groups of one line: the runs of its amounts that each price one item."""
    groups: list[_Group] = []
    for start, end, run in split_runs(line, mentions, is_strong):
        context = line[start:end]
        groups.append(_Group(mentions=run, context=context, own_text=context))
    return groups


def _mentions(line: str, currency: str | None) -> list[_Mention]:
    """Every asking amount on one line, with what the words around it say about shipping."""
    if not _DIGIT.search(line):
        return []
    found: list[_Mention] = []
    previous_end = 0
    for match in _MENTION.finditer(line):
        before = line[previous_end:match.start()]
        after = line[match.end():match.end() + _WINDOW]
        if _NOT_PRICE_AFTER.match(after) or _NOT_PRICE_BEFORE.search(lead(before)):
            previous_end = match.end()
            continue
        mention = _mention(match, currency)
        if mention is not None:
            found.append(mention)
        previous_end = match.end()
    if not found and mentions_gpu(line):
        found = _labelled(line, currency)
    for index, mention in enumerate(found):
        following = found[index + 1].start if index + 1 < len(found) else len(line)
        before_start = found[index - 1].end if index else 0
        _qualify(mention, lead(line[before_start:mention.start]), tail(line[mention.end:following]))
    return _attach_shipping(line, found)


def _labelled(line: str, currency: str | None) -> list[_Mention]:
    """Bare amounts after a label on a line that names a GPU and states no other amount."""
    found = []
    for match in _LABELLED.finditer(line):
        try:
            amount = parse_amount(match.group(1))
        except PriceError:
            continue
        if amount > 0:
            found.append(_Mention(start=match.start(1), end=match.end(1), value=amount,
                                  high=None, currency=currency))
    return found


def _mention(match: re.Match[str], currency: str | None) -> _Mention | None:
    number = match.group("num1") or match.group("num2") or match.group("num3") \
        or match.group("num4") or ""
    symbol = match.group("sym1") or match.group("sym2") or ""
    try:
        amount = parse_amount(number)
        high = parse_amount(match.group("hi1")) if match.group("hi1") else None
    except PriceError:
        return None
    if amount <= 0:
        return None
    if high is not None and high <= amount:
        high = None
    code = None if symbol.strip() in ("", "$") or symbol.lower().startswith(("dollar", "buck")) \
        else detect_currency(symbol.upper())
    # NOTE: a cue word ("asking", "local:") stays outside the amount so it can qualify it.
    start = match.start("num3") if match.group("num3") else match.start()
    return _Mention(start=start, end=match.end(), value=amount, high=high,
                    currency=code or currency)


def _qualify(mention: _Mention, before: str, after: str) -> None:
    mention.kind = kind(before, after)
    mention.obo = bool(_OBO.search(after))
    mention.each = bool(text_prices.EACH.search(after)) or bool(text_prices.EACH_BEFORE.search(before))


def _attach_shipping(line: str, mentions: list[_Mention]) -> list[_Mention]:
    """"$700 + $25 shipping": the second amount is the first one's shipping, not a price."""
    kept: list[_Mention] = []
    for mention in mentions:
        if kept and _SHIP_AMOUNT_GAP.match(line[kept[-1].end:mention.start]) \
                and _SHIP_AMOUNT_TAIL.match(line[mention.end:mention.end + _WINDOW]):
            kept[-1].shipping = mention.value
            kept[-1].kind = "plus"
            continue
        kept.append(mention)
    return kept


# --- reading the post text ---------------------------------------------------------------


def _words(initials: str, words: str) -> re.Pattern[str]:
    r"""Case-blind ``\b(?:words)\b`` for words that all start with one of ``initials``.

    NOTE: led by the test that such a word starts here, which spares trying every word at
    every position.
    """
    return re.compile(rf"(?<!\w)(?=[{initials}])\b(?:{words})\b", re.IGNORECASE)


# NOTE: case-blind "\b(?:rtx|gtx|gt)\s?-?\s?a?\d{3,4}(?!\d)|\brx\s?-?\s?\d{3,4}(?!\d)
# |\b(?:radeon|geforce|quadro|titan\s+(?:x|xp|v|rtx))\b|\barc\s?-?\s?[ab]\d{3}\b|\bfounders?\b
# |\b(?:graphics|video)\s+cards?\b|\bvega\s?(?:56|64)\b", written first-letter-first as
# text_prices.OBO is: the word's first letter, the boundary before it, then the rest of each word
# that letter starts.
_GPU = re.compile(
    r"[rgqtafvRGQTAFV](?<!\w.)(?:"
    r"(?<=[rR])(?i:tx\s?-?\s?a?\d{3,4}(?!\d)|x\s?-?\s?\d{3,4}(?!\d)|adeon\b)"
    r"|(?<=[gG])(?i:tx\s?-?\s?a?\d{3,4}(?!\d)|t\s?-?\s?a?\d{3,4}(?!\d)|eforce\b|raphics\s+cards?\b)"
    r"|(?<=[qQ])(?i:uadro\b)|(?<=[tT])(?i:itan\s+(?:x|xp|v|rtx)\b)|(?<=[aA])(?i:rc\s?-?\s?[ab]\d{3}\b)"
    r"|(?<=[fF])(?i:ounders?\b)|(?<=[vV])(?i:ideo\s+cards?\b|ega\s?(?:56|64)\b))")
_MODEL_DIGITS = re.compile(r"\d{3,4}")
_NV_NUMBER = r"(?:9[5-8]0|10[5-8]0|16[56]0|20[6-8]0|30[5-9]0|40[6-9]0|50[6-9]0)"
# NOTE: a bare "3060ti" or "6900 XT" names a card on its own; a bare "3090" only beside a
# card word or board maker ("EVGA 3080 FTW3", "3090 FE"), or when the title names that model.
_NV_SUFFIXED = re.compile(rf"(?<![\w.-]){_NV_NUMBER}\s?(?:ti|super)\b", re.IGNORECASE)
_AMD_NUMBER = r"(?:5[5-7]00|6[4-9][05]0|7[6-9]00|90[67]0)"
_AMD_XT = re.compile(rf"(?<![\w.-]){_AMD_NUMBER}\s?xtx?\b", re.IGNORECASE)
# NOTE: the bare numbers, which the regex engine finds by skipping ahead in C: no model number
# in a text, no match of the patterns built on it.
_NV_HINT = re.compile(_NV_NUMBER)
_AMD_HINT = re.compile(_AMD_NUMBER)
_CPU_BEFORE = re.compile(r"(?:ryzen\s*\d?|\br\d)\s*$", re.IGNORECASE)
_NV_BARE = re.compile(rf"(?<![\w.-]){_NV_NUMBER}(?!\d)")
_CARD_CUE = re.compile(
    r"\b(?:fe|founders|gpu|graphics|video\s+card|nvidia|evga|zotac|pny|msi|gigabyte|asus"
    r"|asrock|sapphire|powercolor|xfx|palit|gainward|inno3d|galax|kfa2|colorful|strix|tuf"
    r"|aorus|ventus|suprim|trio|ftw3?|xc3?|red\s+devil|nitro\+?|pulse|hellhound|trinity|amp"
    r"|eagle|windforce|phantom|gamerock|jetstream|kingpin|hof|blower|reference)\b",
    re.IGNORECASE)
# NOTE: laptops and whole systems name their GPU too ("GPU: 3060 CPU: R7-6500H RAM: …");
# those lines price the system, not a card.
_SYSTEM = _words("LNMPFWC", r"laptops?|notebooks?|macbook|prebuilt|pre-built"
                            r"|(?:full|whole|complete)\s+(?:build|system|pc|rig)")
_SPECS = (
    _words("CPRXI", r"cpu|processor|ryzen|xeon|i[3579]-?\d{4,5}\w*"),
    _words("RD", r"ram|ddr[345]"),
    _words("SNH", r"ssd|nvme|hdd|storage"),
    _words("M", r"motherboard|mobo"),
    _words("WO", r"windows|os"),
)
_WORD = re.compile(r"[a-z][a-z0-9&']*")
_FILLER = text_prices.FILLER
_LINK = text_prices.LINK
_URL = text_prices.URL
_STRUCK = text_prices.STRUCK
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|~>])")
_TABLE_RULE = text_prices.TABLE_RULE


def plain_lines(body: str) -> list[str]:
    """The post's Markdown as plain lines: links to their text, URLs and emphasis dropped,
    a table row as its cells joined by " | ", a table's rule row as a blank line."""
    # NOTE: each substitution runs only when the text holds what its pattern must match
    text = body.replace("\u200b", "").replace("&#x200B;", "")
    if "](" in text:
        text = _LINK.sub(r"\1", text)
    if "~~" in text:
        text = _STRUCK.sub(" ", text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    text = text.replace("**", "").replace("__", "").replace("\xa0", " ")
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    lines: list[str] = []
    for raw in text.splitlines():
        if _TABLE_RULE.match(raw):
            lines.append("")
            continue
        lines.append(unmark(raw))
    return lines


def is_strong(text: str) -> bool:
    """True when ``text`` names something (an item) beyond price, shipping and payment words."""
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if len(word) > 1 and word not in _FILLER:
            return True
    return False


def have_part(title: str) -> str:
    """The "[H] …" part of a "[loc] [H] … [W] …" title (the whole title when untagged)."""
    if "[" not in title:
        return title
    head = _WANT_TAG.split(title, maxsplit=1)[0]
    return _HAVE_TAG.split(head, maxsplit=1)[-1]


def gpu_models(title: str) -> tuple[str, ...]:
    """The NVIDIA/AMD model numbers a title offers ("Rtx 3090 Founders Edition" -> "3090")."""
    return _models(have_part(title))


def _models(have: str) -> tuple[str, ...]:
    found = {m.group(0)[-4:] for m in _MODEL_DIGITS.finditer(" ".join(
        g.group(0) for g in (*_GPU.finditer(have), *_NV_SUFFIXED.finditer(have),
                             *_AMD_XT.finditer(have))))}
    return tuple(sorted(f for f in found if len(f) == 4))


def mentions_gpu(text: str, models: tuple[str, ...] = ()) -> bool:
    """True when ``text`` names a graphics card (by general model/brand knowledge)."""
    if _GPU.search(text):
        return True
    # NOTE: the model-number patterns run only where a model number stands at all
    nvidia = _NV_HINT.search(text) is not None
    if nvidia and _NV_SUFFIXED.search(text):
        return True
    if _AMD_HINT.search(text):
        for match in _AMD_XT.finditer(text):
            if not _CPU_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
                return True
    if not nvidia:
        return False
    bare = [match.group(0) for match in _NV_BARE.finditer(text)]
    return bool(bare) and (any(number in models for number in bare)
                           or _CARD_CUE.search(text) is not None)


def is_system(text: str) -> bool:
    """True for a laptop or whole-PC description rather than a single card."""
    if _SYSTEM.search(text):
        return True
    specs = 0
    for pattern in _SPECS:
        if pattern.search(text):
            specs += 1
            if specs == 2:
                return True
    return False


def is_gpu_text(text: str, models: tuple[str, ...]) -> bool:
    """A graphics card named in ``text``, and ``text`` not describing a laptop or whole PC."""
    return mentions_gpu(text, models) and not is_system(text)
