"""The condition phrases: what sellers write about a card's state, in English, German, French and
Spanish (eBay.de/.fr/.es, Kleinanzeigen, Leboncoin, Wallapop wording), each with its weight."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    """One phrase family. ``negated``: what a denied phrase becomes (None: it is ignored);
    ``hedged``: what a phrase the seller is unsure of becomes (None: half its weight)."""

    name: str
    weight: int
    pattern: re.Pattern[str]
    negated: tuple[str, int] | None = None
    hedged: tuple[str, int] | None = None


def _r(name: str, weight: int, pattern: str, negated: tuple[str, int] | None = None,
       hedged: tuple[str, int] | None = None) -> Rule:
    return Rule(name, weight, re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"), negated,
                hedged)


#: rules whose phrase describes a fault a buyer should not pay a working card's price for: a
#: listing with one of them (not denied) is capped well under any alert threshold
FAULTS = frozenset({"artifacts", "crashes", "fan not spinning", "repaired", "as is", "broken"})

# Weights: good up to +4, bad down to -15. Order matters: a span matched by an earlier rule is not
# matched again ("lightly mined" is not also "mined", "never mined" not "mined").
RULES: tuple[Rule, ...] = (
    # -- negative phrasings that are good news, matched first so their words are consumed
    _r("never mined", 3,
       r"(?:never|not|wasn'?t|was\s*not)\s*(?:been\s*)?(?:used\s*(?:for|in)\s*(?:crypto\s*)?mining|"
       r"mined)|no\s*mining|non\s*-?\s*mining|not\s*a\s*mining\s*card|"
       r"nie\s*(?:zum\s*)?(?:gemined|gemint|geminet|minen|mining)|kein\s*mining|"
       r"nicht\s*(?:zum\s*)?(?:minen|mining)(?:\s*(?:genutzt|verwendet|benutzt))?|nicht\s*gemined|"
       r"jamais\s*(?:utilis[ée]e?\s*pour\s*(?:le\s*)?)?(?:min[ée]e?|minage|mining)|"
       r"pas de minage|pas min[ée]e?|pas [ée]t[ée] min[ée]e?|"
       r"nunca\s*(?:se\s*us[óo]\s*para\s*)?(?:minad[ao]|minar|miner[íi]a)|sin\s*minar|"
       r"no\s*(?:ha\s*sido\s*)?minad[ao]|sin\s*miner[íi]a", hedged=("never mined", 1)),
    _r("never overclocked", 1, r"never\s*(?:been\s*)?(?:overclocked|oc'd|ocd)|"
       r"(?:overclocked|oc'?d)\s*[?:\-]\s*(?:no|never|nope)"),
    _r("no issues", 2,
       r"(?:zero|no|without\s*any|never\s*had\s*any)\s*(?:issues|problems)|"
       r"(?:issues|problems)\s*[?:\-]\s*(?:none|no|nope|zero|0)|"
       r"works?\s*(?:perfectly|perfect|flawlessly|great|fine|well|100\s*%|like\s*new)|"
       r"flawless(?:ly)?|perfect\s*(?:working\s*)?condition|fully\s*(?:functional|working)|"
       r"100\s*%\s*(?:working|functional)|tested\s*(?:and\s*)?working|in\s*(?:perfect\s*)?working\s*order|"
       r"runs?\s*(?:great|perfect(?:ly)?|cool|fine|flawless(?:ly)?|like\s*new)|"
       r"funktioniert\s*(?:einwandfrei|tadellos|perfekt|problemlos)|voll\s*funktionsf[äa]hig|"
       r"einwandfrei|ohne\s*(?:probleme|m[äa]ngel)|fonctionne\s*(?:parfaitement|tr[èe]s\s*bien|nickel)|"
       r"aucun\s*(?:probl[èe]me|souci)|funciona\s*(?:perfectamente|perfecto|bien|correctamente)|"
       r"sin\s*(?:problemas|fallos)"),
    # -- good
    _r("new thermal pads", 3, r"(?:new|fresh|replaced(?:\s*the)?|upgraded)\s*(?:thermal\s*)?pads|"
       r"re\s*-?\s*padded|pads\s*(?:were\s*|have\s*been\s*)?replaced|neue\s*(?:w[äa]rmeleit)?pads|"
       r"nouveaux\s*pads|pads\s*(?:thermiques\s*)?(?:neufs|chang[ée]s)|pads\s*nuevos"),
    _r("repasted", 2, r"re\s*-?\s*pasted|(?:new|fresh)\s*(?:thermal\s*)?paste|ptm\s*-?\s*7950|"
       r"paste\s*(?:was\s*|has\s*been\s*)?replaced|neue\s*w[äa]rmeleitpaste|"
       r"p[âa]te\s*thermique\s*(?:neuve|chang[ée]e)|pasta\s*t[ée]rmica\s*nueva"),
    _r("original box", 2, r"(?:original|orig|retail|complete)\s*(?:retail\s*)?(?:box|packaging)|"
       r"(?:with|w/|comes\s*with(?:\s*the)?|incl\.?|including)\s*(?:the\s*)?box|box\s*included|"
       r"in\s*(?:the\s*)?box|box\s*[?:\-]\s*(?:yes|included|y)|boxes\s*included|"
       r"(?:\+|&|and)\s*(?:the\s*)?(?:original\s*)?box(?!\s*only)|"
       r"ovp|originalverpackung|originalkarton|mit\s*karton|bo[iî]te\s*d'?\s*origine|"
       r"emballage\s*d'?\s*origine|avec\s*(?:sa\s*)?bo[iî]te|caja\s*original|con\s*(?:su\s*)?caja|"
       r"embalaje\s*original"),
    _r("receipt", 2, r"receipts?|invoice|proof\s*of\s*purchase|rechnung|kaufbeleg|quittung|"
       r"facture|ticket\s*de\s*caisse|factura|ticket\s*de\s*compra|comprobante"),
    _r("warranty", 3, r"(?:remaining|transferable|active|valid|still\s*(?:under|has|have)|under)?"
       r"\s*(?:warranty|garantie|gew[äa]hrleistung|garant[íi]a)"
       r"(?:\s*(?:until|till|through|left|remaining|bis|jusqu))?"
       r"(?!\s*-?\s*(?:seal|sticker|void|label))"),
    _r("untested", -3, r"untested|not\s*(?:been\s*)?tested|unable\s*to\s*test|ungetestet|"
       r"nicht\s*getestet|non\s*test[ée]e?|sin\s*probar"),
    _r("tested", 2, r"(?:stress\s*-?\s*)?tested|benchmarked|3d\s*mark|time\s*spy|furmark|occt|"
       r"superposition|getestet|test[ée]e?|probad[ao]", negated=("untested", -3)),
    _r("gaming only", 2,
       r"(?:used\s*(?:only\s*)?(?:for|in)\s*)?(?:light\s*|casual\s*)?gaming\s*only|"
       r"only\s*(?:been\s*)?used\s*for\s*(?:light\s*|casual\s*)?gaming|"
       r"(?:strictly|just|only)\s*(?:for\s*)?(?:light\s*|casual\s*)?gaming|(?:light|casual)\s*gaming|"
       r"used\s*(?:only\s*)?(?:to|for)\s*gam(?:e|ing)|nur\s*(?:zum\s*)?(?:gaming|zocken|spielen)|"
       r"uniquement\s*(?:pour\s*)?(?:le\s*)?(?:gaming|jeu)|solo\s*(?:para\s*)?(?:gaming|jugar|juegos)"),
    _r("non-smoking", 2, r"non\s*-?\s*smok(?:ing|er)|smoke\s*-?\s*free|no\s*smok(?:ing|ers?)|"
       r"pet\s*-?\s*free|nichtraucher(?:haushalt)?|non\s*-?\s*fumeur|no\s*fumador(?:es)?"),
    _r("new", 3, r"brand\s*-?\s*new|new\s*in\s*box|bnib|factory\s*sealed|sealed|unopened|nib|"
       r"originalverpackt|versiegelt|neuf\s*(?:sous\s*blister|jamais\s*ouvert)|scell[ée]e?|"
       r"nuevo\s*(?:a\s*estrenar|sin\s*abrir|precintado)|precintad[ao]"),
    _r("like new", 2, r"like\s*-?\s*new|mint|pristine|immaculate|excellent\s*condition|neuwertig|"
       r"wie neu|comme neu(?:f|ve)|état neuf|etat neuf|como nuev[ao]|impecable"),
    _r("great condition", 2,
       r"(?:great|excellent|perfect|top|superb|amazing|fantastic|very\s*good)\s*(?:condition|shape)|"
       r"excellent|well\s*(?:kept|cared\s*for|maintained)|babied|sehr\s*gut(?:er)?\s*(?:zustand)?|"
       r"top zustand|très bon [ée]tat|tres bon [ée]tat|excellent [ée]tat|parfait [ée]tat|"
       r"(?:perfecto|excelente) estado"),
    _r("good condition", 1, r"(?:good|decent|nice)\s*(?:condition|shape)|guter zustand|"
       r"bon état|bon etat|buen estado"),
    # -- bad
    _r("lightly mined", -5, r"(?:lightly|briefly)\s*mined|mined\s*(?:lightly|briefly|for\s*a\s*"
       r"(?:few|couple)\s*(?:weeks|months))|light\s*mining|undervolted\s*(?:for\s*)?mining|"
       r"(?:used\s*)?(?:for\s*)?mining\s*for\s*(?:a\s*few|a\s*couple|\d|one|two|three|six)\s*"
       r"(?:weeks?|months?)"),
    _r("heavy use", -8,
       r"(?<!available\s)(?<!availability\s)(?<!reachable\s)(?<!open\s)(?<!me\s)24/7"
       r"(?!\s*(?:for\s*pick|pick|availab|support|contact|call|text|messag|respon|reply|ship))|"
       r"(?:ai|ml|model|llm|deep\s*learning)\s*training|training\s*(?:ai|ml|llm|models?|neural)|"
       r"render(?:ing)?\s*(?:farm|node|server|workstation|box|rig|machine)|folding\s*@\s*home|"
       r"heavily\s*used|"
       r"dauerbetrieb|24h/24"),
    # a card bought from a miner or a farm ran at full load around the clock
    _r("mining farm", -12,
       r"(?:bought|purchased|got\s*(?:it|them))\s*from\s*(?:a\s*)?(?:miner|mining\s*(?:farm|operation))|"
       r"mining\s*farm|crypto\s*farm|ex\s*-?\s*miner", negated=("never mined", 3),
       hedged=("mining history unknown", -3)),
    _r("mined", -10,
       r"mined|mining|ex\s*-?\s*mining|mining\s*rig|hash\s*-?\s*rate|\d+\s*mh\s*/\s*s|mh/s|"
       r"gemined|gemint|minage|minée|minee|"
       r"minería|mineria|minado|minada", negated=("never mined", 3), hedged=("mining history unknown", -3)),
    _r("artifacts", -12, r"artifact(?:s|ing)?|artefact(?:s|ing|os)?|artefakte|bildfehler",
       negated=("no artifacts", 1)),
    _r("fan not spinning", -10,
       r"(?:fans?|one\s*of\s*the\s*fans)\s*(?:(?:is|are|has|have)\s*)?(?:not|isn'?t|aren'?t|doesn'?t|"
       r"don'?t|won'?t|stopped|no\s*longer)\s*(?:spin(?:ning|s)?|turn(?:ing)?|working|work)"
       r"(?!\s*(?:at|when|while|in|during|on)\s*(?:idle|desktop|low))|"
       r"(?:dead|broken|failed|seized|failing)\s*fans?|fans?\s*(?:is\s*|are\s*)?(?:dead|broken|seized)|"
       r"l[üu]fter\s*(?:dreh(?:t|en)\s*(?:sich\s*)?nicht|defekt|kaputt|ohne\s*funktion)|"
       r"ventilateurs?\s*(?:ne\s*tourne(?:nt)?\s*(?:plus|pas)|hs|en\s*panne|cass[ée]s?)|"
       r"ventilador(?:es)?\s*(?:no\s*(?:gira|giran|funciona)|roto|averiado)", negated=None),
    _r("crashes", -8,
       r"crash(?:es|ing|ed)?|black\s*screens?|freez(?:es|ing)|blue\s*screens?|bsod|"
       r"absturz\w*|abstürz\w*|stürzt ab|sturzt ab|schwarze?r? bildschirm|blackscreens?|"
       r"écran (?:noir|bleu)|ecran (?:noir|bleu)|"
       r"plante|red[ée]marre|se\s*(?:reinicia|cuelga|bloquea)|pantallazos?|pantalla\s*(?:negra|azul)|"
       r"(?:reboots?|restarts?|shuts?\s*(?:down|off))\s*(?:randomly|under\s*load|in\s*games)",
       negated=("no crashes", 1)),
    _r("repaired", -8,
       r"repaired|reflow(?:ed)?|reball(?:ed|ing)?|re\s*-?\s*worked|replaced\s*(?:the\s*|a\s*|one\s*)?"
       r"(?:bad\s*|faulty\s*|dead\s*)?(?:vram|memory\s*chips?|memory\s*modules?|gpu\s*core|"
       r"capacitors?|mosfets?|power\s*stages?)|"
       r"(?:vram|memory|mem|gddr6x?)\s*(?:chips?|modules?)?\s*(?:was\s*|were\s*|has\s*been\s*|"
       r"have\s*been\s*)?(?:replaced|swapped|reballed)|repariert|chip\s*(?:getauscht|ersetzt)|"
       r"speicher getauscht|répar[ée]e?|repar[ée]e?|rebill[ée]e?|puce remplac[ée]e|reparad[ao]|"
       r"resoldad[ao]"),
    _r("fan noise", -6, r"fan\s*(?:noise|rattle|rattles|rattling|clicks|clicking|grinding|is\s*loud|"
       r"wobble)|fans?\s*(?:are\s*|is\s*)?(?:loud|noisy)|noisy\s*fans?|loud\s*fans?|rattl(?:e|es|ing)|"
       r"grinding|bearing\s*noise|l[üu]fter\s*(?:laut|schleift|rattert)|ventilateurs?\s*bruyants?|"
       r"ventilador(?:es)?\s*ruidosos?", negated=("quiet fans", 1)),
    _r("coil whine", -2, r"coil\s*-?\s*whine|whines?|spulenfiepen|fiepen|sifflement|chirrido",
       negated=("no coil whine", 1)),
    _r("water block fitted", -3,
       r"(?:water\s*-?\s*block|waterblock|eisblock|ek\s*block|block)\s*(?:\w+\s*){0,2}(?:installed|"
       r"fitted|mounted|attached|on\s*it)|(?:installed|fitted|mounted)\s*(?:an?\s*|the\s*|with\s*)?"
       r"(?:[\w-]+\s*){0,3}(?:water\s*-?\s*block|waterblock|eisblock|block)|"
       r"(?:with|w/)\s*(?:an?\s*)?(?:ek|alphacool|bykski|heatkiller|optimus|barrow|corsair)?\s*"
       r"(?:[\w-]+\s*)?(?:water\s*-?\s*block|waterblock)|(?:with|w/)\s*(?:an?\s*)?(?:ek|alphacool|"
       r"bykski|heatkiller|optimus|barrow|corsair)\s*(?:[\w-]+\s*)?block|water\s*-?\s*cooled|"
       r"under\s*water",
       negated=None),
    _r("opened", -2, r"(?:warranty\s*)?(?:seal|sticker|void\s*sticker)s?\s*(?:is\s*|was\s*|are\s*|"
       r"has\s*been\s*)?(?:broken|removed|torn|void(?:ed)?)|(?:broke|removed)\s*(?:the\s*)?(?:warranty\s*)?"
       r"(?:seal|sticker)"),
    _r("shunt mod", -6, r"shunt\s*-?\s*mod(?:ded)?|shunted"),
    _r("bios flashed", -4, r"(?:cross\s*-?\s*)?flashed\s*(?:the\s*)?(?:v?bios)|"
       r"v?bios\s*(?:was\s*)?flash(?:ed)?|(?:xoc|modded|custom|1000\s*w)\s*v?bios"),
    _r("no stock cooler", -8, r"(?:no|without(?:\s*the)?|missing(?:\s*the)?)\s*(?:stock|original|"
       r"air)\s*(?:cooler|heatsink|heat\s*sink)|(?:stock|original)\s*(?:cooler|heatsink)\s*(?:is\s*)?"
       r"(?:not\s*included|missing|lost)|water\s*-?\s*block\s*only|only\s*(?:with\s*)?(?:the\s*)?"
       r"water\s*-?\s*block"),
    _r("as is", -10, r"sold as-?is|sold as - is|(?:as is|as-is|as - is)(?=\s*$|\s*[^\w\s])|"
       r"(?:as is|as-is) (?:condition|no returns)|en l'?état|en l'?etat|tal cual"),
    _r("broken", -15, r"broken(?!\s*(?:box|packaging|seal|in|sticker))|"
       r"dead(?!\s*(?:space|island|by|rising|cells))|"
       r"not\s*working|doesn'?t\s*work|does\s*not\s*work|no\s*(?:display|signal|video\s*output)|"
       r"won'?t\s*(?:post|boot)|doesn'?t\s*post|does\s*not\s*post|faulty|defective|for\s*parts|"
       r"cracked\s*(?:pcb|board|die)|defekt|kaputt|en\s*panne|ne\s*fonctionne\s*(?:plus|pas)|"
       r"no\s*funciona|averiad[ao]", negated=None),
    # a card that runs hot now, not one that did until it was fixed ("was throttling before the
    # repad"); a memory temperature stated in degrees is weighed apart (condition.py)
    _r("overheating", -5,
       r"(?<!was\s)(?<!were\s)(?<!used\sto\s)(?:overheat(?:s|ing|ed)?|(?:thermal(?:ly)?\s*)?"
       r"throttl(?:es|ing|ed)|runs?\s*(?:very\s*|too\s*)?hot|[üu]berhitz\w*|surchauffe|"
       r"sobrecalienta\w*)(?![^.;!\n]{0,60}(?:before|until|fixed|solved|repad|re-pad|new\s*pads|"
       r"repast|re-past|no\s*longer))", negated=("no overheating", 1)),
    _r("damaged", -5, r"damaged(?!\s*(?:box|packaging))|bent\s*(?:pins?|pcb|bracket|connector)|"
       r"(?:melted|burnt|burned|scorched)\s*(?:[\w-]+\s*){0,2}(?:connector|plug|pins?|port|socket)|"
       r"missing\s*(?:fan|screws|backplate)|besch[äa]digt|endommag[ée]e?|dañad[ao]"),
    _r("cosmetic wear", -1, r"scratch(?:es|ed)?|scuff(?:s|ed)?|kratzer|rayures?|rayée?|rayee?|"
       r"arañazos?|aranazos?|cosmetic\s*(?:wear|damage|marks?)", negated=("no scratches", 1)),
)
