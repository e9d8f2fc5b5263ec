"""The template texts: what kg writes without a language model, and whenever no model sentence survives the
check. The English wording is ``kg profile``'s summary and the segment labels of ``kg profiles``; German,
French, Spanish, Italian, Portuguese and Dutch (languages the review lexicons cover) get the same sentences
translated; every other language gets English. A reason sentence keeps the stored reason as written (it is
English in every shop: ``kg profiles`` writes it so).

>>> from kg.profiles.text.grounding import Interest, UserGround
>>> user_text(UserGround("u1", interests=(Interest("Category", "Home > Kitchen", 0.6), Interest("Brand", "Acme", 0.4))))
'Mostly into Home > Kitchen and Acme.'
>>> user_text(UserGround("u1", interests=(Interest("Brand", "Acme", 1.0),)), language="de")
'Interessiert sich vor allem für Acme.'
"""

from __future__ import annotations

from kg.profiles.text.grounding import Reason, SegmentGround, UserGround

__all__ = ["LANGUAGES", "reason_text", "segment_description", "segment_name", "user_text"]

#: the languages the templates are written in (others fall back to English)
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "nl")

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "and": "and",
        "into": "Mostly into {list}.",
        "segment": "Belongs to segment '{label}' ({size} users).",
        "last": "Last activity {date}: {what} {product}.",
        "top": "Top suggestion {product}: {reason}.",
        "none": "No profile yet: run kg profiles.",
        "described": "{size} shoppers ({share} of those profiled)",
        "sharing": " sharing an interest in {list}",
        "seller": "; their most bought item is {product}, bought by {bought} of them",
        "no_interest": "no clear interest",
    },
    "de": {
        "and": "und",
        "into": "Interessiert sich vor allem für {list}.",
        "segment": "Gehört zum Segment '{label}' ({size} Nutzer).",
        "last": "Letzte Aktivität am {date}: {what} – {product}.",
        "top": "Top-Empfehlung: {product}.",
        "none": "Noch kein Profil: kg profiles ausführen.",
        "described": "{size} Kunden ({share} der Profilierten)",
        "sharing": " mit Interesse an {list}",
        "seller": "; ihr Bestseller ist {product}, gekauft von {bought} von ihnen",
        "no_interest": "kein klares Interesse",
    },
    "fr": {
        "and": "et",
        "into": "S'intéresse surtout à {list}.",
        "segment": "Fait partie du segment '{label}' ({size} utilisateurs).",
        "last": "Dernière activité le {date} : {what} – {product}.",
        "top": "Suggestion principale : {product}.",
        "none": "Pas encore de profil : lancez kg profiles.",
        "described": "{size} clients ({share} des profils)",
        "sharing": " intéressés par {list}",
        "seller": " ; leur meilleure vente est {product}, achetée par {bought} d'entre eux",
        "no_interest": "pas d'intérêt marqué",
    },
    "es": {
        "and": "y",
        "into": "Le interesa sobre todo {list}.",
        "segment": "Pertenece al segmento '{label}' ({size} usuarios).",
        "last": "Última actividad el {date}: {what} – {product}.",
        "top": "Sugerencia principal: {product}.",
        "none": "Aún no hay perfil: ejecute kg profiles.",
        "described": "{size} clientes ({share} de los perfilados)",
        "sharing": " interesados en {list}",
        "seller": "; su producto más vendido es {product}, comprado por {bought} de ellos",
        "no_interest": "sin interés claro",
    },
    "it": {
        "and": "e",
        "into": "Interessato soprattutto a {list}.",
        "segment": "Appartiene al segmento '{label}' ({size} utenti).",
        "last": "Ultima attività il {date}: {what} – {product}.",
        "top": "Suggerimento principale: {product}.",
        "none": "Nessun profilo ancora: eseguire kg profiles.",
        "described": "{size} clienti ({share} dei profilati)",
        "sharing": " interessati a {list}",
        "seller": "; il loro prodotto più venduto è {product}, acquistato dal {bought} di loro",
        "no_interest": "nessun interesse chiaro",
    },
    "pt": {
        "and": "e",
        "into": "Interessa-se sobretudo por {list}.",
        "segment": "Pertence ao segmento '{label}' ({size} utilizadores).",
        "last": "Última atividade em {date}: {what} – {product}.",
        "top": "Sugestão principal: {product}.",
        "none": "Ainda sem perfil: execute kg profiles.",
        "described": "{size} clientes ({share} dos perfilados)",
        "sharing": " interessados em {list}",
        "seller": "; o mais vendido é {product}, comprado por {bought} deles",
        "no_interest": "sem interesse claro",
    },
    "nl": {
        "and": "en",
        "into": "Vooral geïnteresseerd in {list}.",
        "segment": "Hoort bij segment '{label}' ({size} gebruikers).",
        "last": "Laatste activiteit op {date}: {what} – {product}.",
        "top": "Belangrijkste suggestie: {product}.",
        "none": "Nog geen profiel: voer kg profiles uit.",
        "described": "{size} klanten ({share} van de geprofileerden)",
        "sharing": " met interesse in {list}",
        "seller": "; hun bestseller is {product}, gekocht door {bought} van hen",
        "no_interest": "geen duidelijke interesse",
    },
}
#: what a user did, as a noun where the sentence is not English
_ACTIONS: dict[str, dict[str, str]] = {
    "de": {"PURCHASED": "Kauf", "RATED": "Bewertung", "CARTED": "Warenkorb", "FAVORITED": "Merkliste",
           "VIEWED": "angesehen"},
    "fr": {"PURCHASED": "achat", "RATED": "avis", "CARTED": "panier", "FAVORITED": "favori", "VIEWED": "consulté"},
    "es": {"PURCHASED": "compra", "RATED": "valoración", "CARTED": "carrito", "FAVORITED": "favorito",
           "VIEWED": "visto"},
    "it": {"PURCHASED": "acquisto", "RATED": "recensione", "CARTED": "carrello", "FAVORITED": "preferito",
           "VIEWED": "visto"},
    "pt": {"PURCHASED": "compra", "RATED": "avaliação", "CARTED": "carrinho", "FAVORITED": "favorito",
           "VIEWED": "visto"},
    "nl": {"PURCHASED": "aankoop", "RATED": "beoordeling", "CARTED": "winkelwagen", "FAVORITED": "favoriet",
           "VIEWED": "bekeken"},
}  # fmt: skip


def _phrases(language: str) -> dict[str, str]:
    return _PHRASES.get(language.split("-")[0].lower(), _PHRASES["en"])


def _listed(items: list[str], language: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` in ``language``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {_phrases(language)['and']} " + items[-1]


def _percent(share: float) -> str:
    return f"{share:.0%}"


def user_text(ground: UserGround, *, language: str = "en") -> str:
    """The user's profile text from their facts: top interests, segment, latest activity, top suggestion."""
    p = _phrases(language)
    parts: list[str] = []
    if ground.interests:
        parts.append(p["into"].format(list=_listed([i.key for i in ground.interests[:3]], language)))
    if ground.segment:
        parts.append(p["segment"].format(label=ground.segment.label, size=f"{ground.segment.size:,}"))
    if ground.recent:
        last = ground.recent[0]
        nouns = _ACTIONS.get(language.split("-")[0].lower())
        what = " / ".join(nouns.get(a, a.lower()) for a in last.actions) if nouns else last.what
        parts.append(p["last"].format(date=last.date or "?", what=what, product=last.product.name))
    if ground.recommendations:
        first = ground.recommendations[0]
        parts.append(p["top"].format(product=first.product.name, reason=first.reason))
    return " ".join(parts) or p["none"]


def segment_name(ground: SegmentGround, *, language: str = "en") -> str:
    """The segment's name: its label (its dominant interests by lift, as ``kg profiles`` names it)."""
    if ground.label == "no clear interest" and language != "en":
        return _phrases(language)["no_interest"]
    return ground.label


def segment_description(ground: SegmentGround, *, language: str = "en") -> str:
    """One sentence: the segment's size and share, its shared interests and its most bought product ("best
    seller" is avoided: "seller" is an aspect in many shops' reviews)."""
    p = _phrases(language)
    share = ground.size / ground.total if ground.total else 0.0
    text = p["described"].format(size=f"{ground.size:,}", share=_percent(share))
    if ground.interests:
        text += p["sharing"].format(list=_listed([i.key for i in ground.interests[:3]], language))
    if ground.best_sellers:
        product, bought = ground.best_sellers[0]
        text += p["seller"].format(product=product.name, bought=_percent(bought))
    return text + "."


def reason_text(reason: Reason, *, language: str = "en") -> str:
    """One sentence per recommendation: the product and its stored reason (``'Acme Kettle': likes brand
    Acme.``); the reason is kept as ``kg profiles`` wrote it."""
    del language  # the stored reason is English in every shop; the sentence around it is punctuation only
    name = reason.product.name
    return f"{name[0].upper()}{name[1:]}: {reason.reason}."
