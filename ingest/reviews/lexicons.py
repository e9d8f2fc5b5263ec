"""Small per-language word lists used by the rule-based extraction route and the lexicon sentiment.

The lists are deliberately short and hand-checked: the rules route (``spacy.blank(lang)`` plus a
sentencizer, no POS tags) can only find aspects it knows or that sit in a clear pattern next to an
opinion word, so these lists define its recall. English opinion words come from the VADER lexicon
(filtered) plus :data:`DOMAIN_VALENCE`; other languages use the hand-written lists below.

Example:
    >>> lex = get_lexicon("de")
    >>> lex.opinion_valence("schnelle")
    0.5
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_SYNONYMS",
    "DOMAIN_VALENCE",
    "GENERIC_NOUNS",
    "LANGUAGES",
    "Lexicon",
    "get_lexicon",
    "guess_language",
]

logger = logging.getLogger(__name__)

#: Languages with a rules lexicon. Other languages still run (blank pipeline), with catalogue
#: matching only and an empty opinion lexicon.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")

#: Evaluative words that VADER scores 0 but that carry polarity for shop aspects (English).
DOMAIN_VALENCE: dict[str, float] = {
    "fast": 0.5, "quick": 0.5, "quickly": 0.5, "speedy": 0.5, "prompt": 0.4, "promptly": 0.4,
    "instant": 0.4, "instantly": 0.4, "immediately": 0.3, "slow": -0.5, "slowly": -0.4, "late": -0.5,
    "delayed": -0.5, "expensive": -0.4, "overpriced": -0.6, "pricey": -0.3, "affordable": 0.5,
    "reasonable": 0.4, "bent": -0.5, "torn": -0.5, "crumpled": -0.5, "scratched": -0.5,
    "dented": -0.5, "missing": -0.5, "sturdy": 0.4, "flimsy": -0.5, "convenient": 0.5,
    "inconvenient": -0.5, "simple": 0.3, "solid": 0.4, "smooth": 0.4, "handy": 0.4, "elegant": 0.5, "classy": 0.5,
    "lovely": 0.6, "cute": 0.5, "fine": 0.2, "flawless": 0.7, "broken": -0.6, "damaged": -0.6,
    "defective": -0.6, "useless": -0.6, "easy": 0.4, "difficult": -0.4, "hard": -0.3,
    "confusing": -0.4, "invalid": -0.5, "expired": -0.5, "cheap": 0.0, "high": 0.0, "low": 0.0,
}

#: VADER entries that are nouns, function words or too ambiguous to act as opinion words.
_NOT_OPINION_EN = frozenset(
    "gift gifts thanks thank no yes like want wants help please pretty super well ok okay free "
    "care party credit kind clean play share joke giving give lol god hope win wish mercy "
    "present reward rewards benefit surprise interest interested".split()
)

#: Nouns too generic to be aspects in either route.
GENERIC_NOUNS = frozenset(
    "thing things one ones lot lots way bit time times everything something anything nothing "
    "stuff kind sort type part day days year years week weeks month months people person everyone "
    "someone anyone guy guys lady man woman husband wife son daughter mom dad mother father friend "
    "friends family kid kids child children grandson granddaughter boss teacher coworker coworkers "
    "sister brother niece nephew aunt uncle girlfriend boyfriend recipient recipients birthday "
    "christmas holiday holidays occasion occasions reason reasons idea ideas fact problem problems "
    "issue issues review reviews star stars amount job choice option options home house place bil sil mil "
    "fil inlaws grandkids grandchildren".split()
)

#: Canonical names for aspect variants and translations (configurable: see :class:`AspectNormaliser`).
DEFAULT_SYNONYMS: dict[str, str] = {
    "shipping": "delivery", "shipment": "delivery", "versand": "delivery", "lieferung": "delivery",
    "livraison": "delivery", "envío": "delivery", "envio": "delivery", "entrega": "delivery",
    "cost": "price", "preis": "price", "prix": "price", "precio": "price",
    "packing": "packaging", "verpackung": "packaging", "emballage": "packaging", "embalaje": "packaging",
    "qualität": "quality", "qualite": "quality", "qualité": "quality", "calidad": "quality",
    "akku": "battery", "batterie": "battery", "batería": "battery", "bateria": "battery",
    "akkulaufzeit": "battery life", "autonomie": "battery life",
    "karte": "card", "carte": "card", "tarjeta": "card",
    "giftcard": "gift card", "egift card": "gift card", "e-gift card": "gift card",
    "geschenkkarte": "gift card", "gutschein": "gift card", "carte cadeau": "gift card",
    "tarjeta regalo": "gift card",
    "colour": "color", "farbe": "color", "couleur": "color",
    "größe": "size", "grösse": "size", "taille": "size", "tamaño": "size",
    "kundenservice": "customer service", "kundendienst": "customer service",
    "service client": "customer service", "verkäufer": "seller", "vendeur": "seller",
    "vendedor": "seller", "produkt": "product", "produit": "product", "producto": "product",
    "geschenk": "gift", "cadeau": "gift", "regalo": "gift",
}


@dataclass(frozen=True)
class Lexicon:
    """Word lists for one language (all lower-case)."""

    lang: str
    opinions: dict[str, float]
    aspects: frozenset[str]
    copulas: frozenset[str]
    negators: frozenset[str]
    modifiers: frozenset[str]
    breakers: frozenset[str]
    determiners: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    aspect_suffixes: tuple[str, ...] = ()
    max_aspect_words: int = field(default=3)

    def _variants(self, word: str, suffixes: tuple[str, ...]) -> list[str]:
        out = [word]
        for suf in suffixes:
            if word.endswith(suf) and len(word) - len(suf) >= 3:
                out.append(word[: -len(suf)])
        return out

    def opinion_valence(self, word: str) -> float | None:
        """Valence in [-1, 1] of an opinion word (inflections tolerated), or None."""
        for w in self._variants(word.lower(), self.suffixes):
            if w in self.opinions:
                return self.opinions[w]
        return None

    def is_opinion(self, word: str) -> bool:
        return self.opinion_valence(word) is not None

    def aspect_form(self, words: list[str]) -> str | None:
        """The lexicon form of a (multi-)word aspect, tolerating plural/inflection endings."""
        phrase = " ".join(w.lower() for w in words)
        if phrase in self.aspects:
            return phrase
        *head, last = [w.lower() for w in words]
        variants = self._variants(last, self.aspect_suffixes)[1:]
        if self.lang == "en":
            from ingest.reviews.normalise import singular

            variants.insert(0, singular(last))
        for v in variants:
            cand = " ".join([*head, v])
            if cand in self.aspects:
                return cand
        return None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN_ASPECTS = """battery;battery life;delivery;delivery time;shipping;shipment;price;value;cost;packaging;
package;packing;box;envelope;tin;card;gift;gift card;giftcard;design;quality;service;customer service;
customer support;support;seller;size;color;colour;fit;material;screen;sound;sound quality;display;
instructions;balance;code;selection;website;app;store;product;item;order;purchase;experience;
denomination;expiration;fee;fees;look;style;picture;image;print;paper;bag;case;charger;cable;
speaker;camera;strap;button;lid;handle;smell;taste;flavor;texture;durability;comfort;setup;
installation;refund;return;replacement;warranty;redemption;activation;email;presentation;
greeting card;holder;gift box;gift bag;ribbon;artwork;font;message;format;process;ordering;
checkout;restaurant;food;menu;staff;atmosphere;theater;movie;coffee;drink;drinks;hotel;room;
gas;fuel;clothes;clothing;shoes;music;game;games;book;books;merchandise""".replace("\n", "")

_EN_ADVERB_MODIFIERS = _words(
    "very really so too extremely super pretty quite rather fairly incredibly absolutely totally "
    "truly highly completely just also always still even overall most more less somewhat bit a"
)


def _en_opinions() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lex = SentimentIntensityAnalyzer().lexicon
    out = {
        w: max(-1.0, min(1.0, v / 4.0))
        for w, v in lex.items()
        if w.isalpha() and abs(v) >= 0.8 and w not in _NOT_OPINION_EN
    }
    out.update(DOMAIN_VALENCE)
    for a in _EN_ASPECTS.split(";"):
        out.pop(a, None)
    return out


_DE_OPINIONS = {
    "gut": 0.6, "super": 0.7, "toll": 0.7, "schnell": 0.5, "zügig": 0.5, "langsam": -0.5,
    "schlecht": -0.6, "teuer": -0.5, "günstig": 0.4, "preiswert": 0.5, "billig": -0.2, "schön": 0.6,
    "perfekt": 0.8, "prima": 0.6, "beschädigt": -0.6, "kaputt": -0.7, "zufrieden": 0.6,
    "enttäuscht": -0.6, "enttäuschend": -0.6, "einfach": 0.3, "hervorragend": 0.8,
    "ausgezeichnet": 0.8, "mies": -0.7, "spät": -0.4, "verspätet": -0.5, "pünktlich": 0.4,
    "schrecklich": -0.8, "furchtbar": -0.8, "wunderbar": 0.8, "klasse": 0.7, "praktisch": 0.5,
    "hübsch": 0.5, "stabil": 0.4, "zerknittert": -0.5, "lang": 0.2, "kurz": -0.2, "hoch": 0.0,
    "niedrig": 0.0,
}
_FR_OPINIONS = {
    "bon": 0.6, "bonne": 0.6, "bons": 0.6, "bonnes": 0.6, "bien": 0.5, "excellent": 0.8,
    "excellente": 0.8, "rapide": 0.5, "lent": -0.5, "lente": -0.5, "mauvais": -0.6, "mauvaise": -0.6,
    "cher": -0.5, "chère": -0.5, "parfait": 0.8, "parfaite": 0.8, "super": 0.7, "génial": 0.8,
    "géniale": 0.8, "nul": -0.7, "nulle": -0.7, "abîmé": -0.6, "abîmée": -0.6, "cassé": -0.7,
    "cassée": -0.7, "déçu": -0.6, "déçue": -0.6, "décevant": -0.6, "content": 0.6, "contente": 0.6,
    "satisfait": 0.6, "satisfaite": 0.6, "beau": 0.6, "belle": 0.6, "joli": 0.5, "jolie": 0.5,
    "facile": 0.3, "magnifique": 0.8, "horrible": -0.8, "terrible": -0.7, "pratique": 0.5,
    "retardée": -0.5, "médiocre": -0.5, "élevé": 0.0, "bas": 0.0, "abordable": 0.5, "soignée": 0.5, "soigné": 0.5,
}
_ES_OPINIONS = {
    "bueno": 0.6, "buena": 0.6, "bien": 0.5, "excelente": 0.8, "rápido": 0.5, "rápida": 0.5,
    "lento": -0.5, "lenta": -0.5, "malo": -0.6, "mala": -0.6, "caro": -0.5, "cara": -0.5,
    "perfecto": 0.8, "perfecta": 0.8, "bonito": 0.5, "bonita": 0.5, "roto": -0.7, "rota": -0.7,
    "genial": 0.8, "terrible": -0.7, "horrible": -0.8, "barato": 0.3, "barata": 0.3,
    "dañado": -0.6, "dañada": -0.6, "alto": 0.0, "bajo": 0.0, "contento": 0.6, "contenta": 0.6, "fácil": 0.3,
}


@functools.lru_cache(maxsize=None)
def get_lexicon(lang: str) -> Lexicon:
    """The :class:`Lexicon` for ``lang``; unknown languages get an empty one (catalogue only)."""
    lang = (lang or "en").lower().split("-")[0].split("_")[0]
    if lang == "en":
        return Lexicon(
            lang="en",
            opinions=_en_opinions(),
            aspects=frozenset(_EN_ASPECTS.split(";")),
            copulas=_words("is was are were be been 's seems seemed looks looked arrived came felt feels"),
            negators=_words("not n't never no hardly barely"),
            modifiers=_EN_ADVERB_MODIFIERS,
            breakers=_words("but although though however yet while whereas"),
            determiners=_words("the a an this that these those my its their our your his her"),
            suffixes=("s", "ly"),
            aspect_suffixes=("s", "es"),
        )
    if lang == "de":
        return Lexicon(
            lang="de",
            opinions=_DE_OPINIONS,
            aspects=_words(
                "lieferung versand preis verpackung qualität akku akkulaufzeit batterie karte "
                "geschenkkarte gutschein design farbe größe grösse service kundenservice kundendienst "
                "verkäufer produkt geschenk umschlag box"
            ),
            copulas=_words("ist war sind waren wirkt wirkte kam"),
            negators=_words("nicht kein keine nie"),
            modifiers=_words("sehr zu so echt wirklich total ziemlich recht etwas extrem super"),
            breakers=_words("aber jedoch doch obwohl sondern"),
            determiners=_words("der die das den dem des ein eine einen einem einer mein meine"),
            suffixes=("es", "er", "en", "em", "e"),
            aspect_suffixes=("en", "n", "e", "s"),
        )
    if lang == "fr":
        return Lexicon(
            lang="fr",
            opinions=_FR_OPINIONS,
            aspects=_words(
                "livraison prix emballage qualité batterie autonomie carte design couleur taille "
                "service vendeur produit cadeau enveloppe boîte"
            )
            | {"carte cadeau", "service client"},
            copulas=_words("est était sont étaient semble paraît"),
            negators=_words("pas ne jamais aucun aucune"),
            modifiers=_words("très trop si vraiment assez plutôt super tellement bien"),
            breakers=_words("mais cependant pourtant toutefois"),
            determiners=_words("le la les l' un une des ce cette ces mon ma mes"),
            suffixes=("s",),
            aspect_suffixes=("s", "x"),
        )
    if lang == "es":
        return Lexicon(
            lang="es",
            opinions=_ES_OPINIONS,
            aspects=_words(
                "entrega envío envio precio embalaje calidad batería bateria tarjeta diseño color "
                "tamaño servicio vendedor producto regalo caja"
            )
            | {"tarjeta regalo"},
            copulas=_words("es era son eran fue está estaba llegó"),
            negators=_words("no nunca ningún ninguna"),
            modifiers=_words("muy demasiado tan bastante realmente súper"),
            breakers=_words("pero aunque sino"),
            determiners=_words("el la los las un una unos unas este esta mi mis"),
            suffixes=("s",),
            aspect_suffixes=("s", "es"),
        )
    logger.info("no rules lexicon for language %r: catalogue entities only", lang)
    return Lexicon(
        lang=lang, opinions={}, aspects=frozenset(), copulas=frozenset(), negators=frozenset(),
        modifiers=frozenset(), breakers=frozenset(),
    )


@functools.lru_cache(maxsize=None)
def _stop_words(lang: str) -> frozenset[str]:
    import importlib

    try:
        mod = importlib.import_module(f"spacy.lang.{lang}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(mod.STOP_WORDS)


def guess_language(text: str, default: str, *, min_margin: int = 2) -> str:
    """Cheap stop-word vote among :data:`LANGUAGES`; returns ``default`` unless another wins clearly.

    Example:
        >>> guess_language("Die Lieferung war sehr schnell und der Preis ist gut.", "en")
        'de'
    """
    words = [w.strip(".,!?;:()\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    if len(words) < 4:
        return default
    scores = {lang: sum(w in _stop_words(lang) for w in words) for lang in LANGUAGES}
    best = max(scores, key=lambda k: scores[k])
    base = scores.get(default, 0)
    if best != default and scores[best] >= base + min_margin and scores[best] >= 0.25 * len(words):
        return best
    return default
