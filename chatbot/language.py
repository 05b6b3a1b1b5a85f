"""The shopper's language, from their message, and the language the desk answers in.

`detect()` names the language of a message, or None when it is too short or mixed to tell;
`reply_language()` turns that, the conversation's last language and the shop's languages
(CHATBOT_SHOP_LANGUAGES) into the language of the answer. A message too short for lingua
is read by its words: the one shop language they are all common words of, if there is one
(`common_in`: "Was kostet …?" is German, in a Spanish conversation too).

Detection uses lingua over a fixed set of widely used languages, not all 75 it knows:
among 75 a shopper's "ok" is Zulu and "hello" Sotho, and loading them takes 6 s and
900 MB; the 20 here load in about 2 s and 300 MB, on the first message (`warm_up()` does
it at start-up instead). Shopper text is noisy, so order numbers, SKUs, prices, URLs and
e-mail addresses are removed first (they read as letters of some language), and a guess
is kept only with enough letters and a clear lead over the runner-up. The thresholds were
chosen on the labelled messages in tests/test_language.py (short, lower-case, unaccented
phone typing, typos): every language scores at least 0.95 there, every miss is None
rather than a wrong language, and no short English message comes out as another one.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# Languages the detector chooses among (ISO 639-1). More is not better: each language in
# the same script is one more way for a short message to be mistaken (with Norwegian,
# Finnish, Czech, Romanian and Hungarian added, or all 75, a French message of the
# labelled set comes out wrong; with these, none does). Languages with a script of their
# own (the second line) cost nothing there and add no memory until such a text arrives.
# A language outside the set is never named: its text comes out as None or a neighbour.
DETECTED = ("en", "es", "de", "fr", "it", "pt", "nl", "pl", "sv", "da", "tr", "ru",
            "uk", "el", "ar", "he", "hi", "zh", "ja", "ko")
# Fewer letters than this (after removing numbers, codes and links) is too short to tell:
# "is it in stock" (11) reads as Swedish, "and boots?" as Dutch. Such messages are answered
# in the conversation's language instead of guessed at.
MIN_LETTERS = 12
# How far the top language's confidence must be above the runner-up's. Not an absolute
# floor: lingua spreads a short text's confidence over every candidate, so a correct
# answer often has under 0.4 of it, while a wrong one is a near tie (Spanish "como lavo el
# saco de dormir" is Portuguese 0.31 to Spanish 0.28).
MIN_MARGIN = 1.2

# English name (for the model's instructions) and the language's own name (for shoppers,
# who recognise their own language's name in any sentence: "Español", "Deutsch").
NAMES = {
    "ar": ("Arabic", "العربية"), "bg": ("Bulgarian", "Български"), "ca": ("Catalan", "Català"),
    "cs": ("Czech", "Čeština"), "da": ("Danish", "Dansk"), "de": ("German", "Deutsch"),
    "el": ("Greek", "Ελληνικά"), "en": ("English", "English"), "es": ("Spanish", "Español"),
    "et": ("Estonian", "Eesti"), "fi": ("Finnish", "Suomi"), "fr": ("French", "Français"),
    "ga": ("Irish", "Gaeilge"), "he": ("Hebrew", "עברית"), "hi": ("Hindi", "हिन्दी"),
    "hr": ("Croatian", "Hrvatski"), "hu": ("Hungarian", "Magyar"), "id": ("Indonesian", "Bahasa Indonesia"),
    "is": ("Icelandic", "Íslenska"), "it": ("Italian", "Italiano"), "ja": ("Japanese", "日本語"),
    "ko": ("Korean", "한국어"), "lt": ("Lithuanian", "Lietuvių"), "lv": ("Latvian", "Latviešu"),
    "ms": ("Malay", "Bahasa Melayu"), "nb": ("Norwegian", "Norsk"), "nl": ("Dutch", "Nederlands"),
    "nn": ("Norwegian Nynorsk", "Nynorsk"), "no": ("Norwegian", "Norsk"), "pl": ("Polish", "Polski"),
    "pt": ("Portuguese", "Português"), "ro": ("Romanian", "Română"), "ru": ("Russian", "Русский"),
    "sk": ("Slovak", "Slovenčina"), "sl": ("Slovenian", "Slovenščina"), "sr": ("Serbian", "Српски"),
    "sv": ("Swedish", "Svenska"), "th": ("Thai", "ไทย"), "tr": ("Turkish", "Türkçe"),
    "uk": ("Ukrainian", "Українська"), "vi": ("Vietnamese", "Tiếng Việt"), "zh": ("Chinese", "中文"),
}

# What reads as letters but says nothing about the language, removed before detecting:
# links, e-mail addresses, anything with a digit in it (order numbers A1042, SKUs
# RO-JKT-0004, prices $12.99 and 12,99 €, sizes 10.5, dates) and all-capital codes (RO-JKT).
_NOISE = re.compile(
    r"https?://\S+|www\.\S+"
    r"|\S+@\S+"
    r"|\S*\d\S*"
    r"|\b[A-Z]{2,}(?:-[A-Z0-9]+)+\b"
)
_LETTER = re.compile(r"[^\W\d_]")
_LETTER_WORD = re.compile(r"[^\W\d_]+")
COMMON_ZIPF = 3.0  # a word this common in a language (about once per million words) is one of its words


@dataclass(frozen=True)
class ReplyLanguage:
    """The language to answer in and how it was chosen."""

    code: str  # ISO 639-1, one of the shop's languages
    detected: str | None  # what the message was written in; None: too short to tell
    unsupported: bool = False  # the shopper wrote a language the shop does not answer in

    @property
    def name(self) -> str:
        return name(self.code)


def name(code: str) -> str:
    """The language's English name, for instructions to the model ("Answer in Spanish.")."""
    return NAMES.get(code, (code, code))[0]


def native_name(code: str) -> str:
    """The language's name in itself, for shoppers ("Español", "Deutsch")."""
    return NAMES.get(code, (code, code))[1]


def clean(text: str) -> str:
    """The text without links, addresses, numbers and codes, which belong to no language."""
    return _NOISE.sub(" ", text)


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the language the text is written in, or None when too short
    or too ambiguous to tell."""
    text = clean(text)
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return None
    first, second = detector().compute_language_confidence_values(text)[:2]
    if first.value == 0 or first.value < MIN_MARGIN * second.value:  # 0: in no script of DETECTED
        return None
    return first.language.iso_code_639_1.name.lower()


def reply_language(text: str, previous: str | None, shop_languages: list[str]) -> ReplyLanguage:
    """The language to answer text in.

    The detected language if the shop answers in it (for a message too short for lingua,
    the one shop language its words are all common in, `common_in`); when that tells
    nothing, the conversation's previous reply language (if still one of the shop's), else
    the shop's first; when the shopper clearly writes another language, the shop's first
    with `unsupported` set, so the reply can say why.
    """
    first = shop_languages[0]
    # Too short for lingua ("Was kostet …?"): the one shop language all its words are common in.
    detected = detect(text) or common_in(text, shop_languages)
    if detected is None:
        return ReplyLanguage(previous if previous in shop_languages else first, None)
    if detected in shop_languages:
        return ReplyLanguage(detected, detected)
    return ReplyLanguage(first, detected, unsupported=True)


def common_in(text: str, languages: list[str]) -> str | None:
    """The one language of languages all of whose words are common in it, for a message too
    short for lingua: "Was kostet …?" is German, "y en rojo?" Spanish; "in XL?" is common in
    all of them and tells nothing (None)."""
    cleaned = clean(text)
    fits = [code for code in languages if common_share(cleaned, code) == 1.0]
    return fits[0] if len(fits) == 1 else None


def common_share(text: str, code: str) -> float:
    """The share of text's words that are common words of language code (wordfreq's Zipf at
    least COMMON_ZIPF); 0.0 for a text without words."""
    from knowledge.spelling import zipf

    words = [w.lower() for w in _LETTER_WORD.findall(text)]
    return sum(zipf(w, code) >= COMMON_ZIPF for w in words) / len(words) if words else 0.0


_build_lock = threading.Lock()


def warm_up() -> None:
    """Load the detector's models now (about 2 s) rather than on the first shopper's message."""
    detect("where is my order")


def detector() -> LanguageDetector:
    """The process's one detector, built on first use. Its models load on its first text,
    those of every language in the text's script together (lingua's lazy loading: about
    2 s and 300 MB for the Latin ones, against 1.2 s and 370 MB to preload every model,
    which keeps models for scripts shoppers may never write)."""
    with _build_lock:  # lru_cache alone would let two first callers both build one
        return _detector()


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in DETECTED]
    return LanguageDetectorBuilder.from_languages(*languages).build()
