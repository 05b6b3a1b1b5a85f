"""The desk's own words in the shopper's language: the fixed sentences it says itself
(the hand-off, the apology, the busy and order-not-found replies, notes, offer wording),
as opposed to what the language model writes.

The texts are data, in chatbot/messages.yaml: one block per language (ISO 639-1 code),
each with the same keys as `en`. A shop adds a language by adding a block (copy `en`,
translate every text, keep the {placeholders}) and listing its code in
CHATBOT_SHOP_LANGUAGES. The file is checked when it is first read: a block missing a key
of `en`, with a key `en` lacks, or with other placeholders than `en`'s stops the desk
with a CatalogError naming the language and key to fix.

    say("order_not_found", "es", number="A1042")
    long_date(datetime(2026, 12, 5), "de")  # "5. Dezember 2026"

A language without a block, or a key without a text, is said in English.
"""

from __future__ import annotations

import re
import string
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from chatbot.language import native_name

CATALOG = Path(__file__).with_name("messages.yaml")
FALLBACK = "en"  # the language every other block is checked against and falls back to


class CatalogError(ValueError):
    """The message catalog is not usable; the message says which language and key to fix."""


def say(key: str, language: str, /, **fields) -> str:
    """The text for key in language (English if it has none), with fields filled in (a field
    may be called `language`: the two parameters before it are positional)."""
    return _text(key, language).format(**fields)


def languages() -> list[str]:
    """The languages the catalog has texts for, English first."""
    return list(catalog())


def long_date(value: date, language: str) -> str:
    """A date as a sentence in language writes it: "December 5, 2026", "5 de diciembre de
    2026", "5. Dezember 2026", "1er décembre 2026" (no OS locale involved)."""
    month = _text("months", language)[value.month - 1]
    day = _text("day_1", language) if value.day == 1 else str(value.day)
    return say("date", language, day=day, month=month, year=value.year)


def number(value: float, spec: str, language: str) -> str:
    """value formatted by spec ("g", ".2f"), with language's decimal mark."""
    return format(value, spec).replace(".", _text("decimal_mark", language))


def join(items: list[str], language: str) -> str:
    """Items as a list in a sentence: "A, B and C", "A, B y C"."""
    if len(items) < 2:
        return "".join(items)
    return say("list_last", language, rest=", ".join(items[:-1]), last=items[-1])


def language_note(shop_languages: list[str]) -> str:
    """The note for a shopper who wrote a language the shop does not answer in, in the shop's
    first language: the languages it answers in by their own names ("English, Español,
    Deutsch and Français"), so the shopper recognises theirs, then the one it answers in."""
    first = shop_languages[0]
    return say("unsupported_language", first, languages=join([native_name(c) for c in shop_languages], first),
               language=_text("language_name", first))


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str | list[str]]]:
    """chatbot/messages.yaml, checked, read once."""
    return load(CATALOG)


def load(path: Path) -> dict[str, dict[str, str | list[str]]]:
    """A catalog file, checked; raises CatalogError naming what to fix."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read the message catalog: {exc}") from exc
    validate(data, str(path))
    return data


def validate(data, where: str = "the message catalog") -> None:
    """Raise CatalogError unless every language has exactly English's keys, each a text
    with English's placeholders (or a list as long as English's)."""
    if not isinstance(data, dict) or not isinstance(data.get(FALLBACK), dict):
        raise CatalogError(f"{where}: needs a block per language, `{FALLBACK}` among them")
    reference = data[FALLBACK]
    if len(reference.get("months") or []) != 12:
        raise CatalogError(f"{where}: `{FALLBACK}.months` must list the twelve month names")
    for language, block in data.items():
        if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2}", language):
            raise CatalogError(f"{where}: {language!r} is not an ISO 639-1 code such as `es`")
        if not isinstance(block, dict):
            raise CatalogError(f"{where}: `{language}` must map keys to texts")
        missing, extra = sorted(set(reference) - set(block)), sorted(set(block) - set(reference))
        if missing:
            raise CatalogError(f"{where}: `{language}` lacks {', '.join(missing)} (every language "
                               f"needs every key of `{FALLBACK}`)")
        if extra:
            raise CatalogError(f"{where}: `{language}` has {', '.join(extra)}, which `{FALLBACK}` "
                               "does not (a misspelt key?)")
        for key, text in block.items():
            _check(text, reference[key], f"{where}: `{language}.{key}`")


def _check(text, english, where: str) -> None:
    if isinstance(english, list):
        if not isinstance(text, list) or len(text) != len(english) or not all(
                isinstance(t, str) and t for t in text):
            raise CatalogError(f"{where} must be a list of {len(english)} texts, as in `{FALLBACK}`")
        return
    if not isinstance(text, str) or not text:
        raise CatalogError(f"{where} must be a text")
    wanted, found = _placeholders(english, where), _placeholders(text, where)
    if found != wanted:
        raise CatalogError(f"{where} has the placeholders {_names(found)} where `{FALLBACK}` has "
                           f"{_names(wanted)}")


def _placeholders(text: str, where: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:  # a lone { or }
        raise CatalogError(f"{where}: {exc} (write a literal brace as {{{{ or }}}})") from exc


def _names(names: set[str]) -> str:
    return ", ".join("{" + name + "}" for name in sorted(names)) or "none"


def _text(key: str, language: str):
    texts = catalog()
    code = re.split(r"[-_]", (language or FALLBACK).lower(), maxsplit=1)[0]  # "es-MX" -> "es"
    text = texts.get(code, {}).get(key)
    return text if text else texts[FALLBACK][key]
