"""How shoppers ask about a shop's documents: a question a sentence or a product field
answers, and the same question plain, casual, with a greeting, or with a typo. Seeded, so a
build is reproducible. The fine-tuning data (finetune/questions.py) and the per-shop hand-off
calibration (knowledge/calibration.py) both ask this way."""

from __future__ import annotations

import random
import re

from knowledge.facts import extract
from knowledge.focus import sentences

STOPWORDS = set(
    "a an and are as at be but by can could do does for from have how i if in is it its me my "
    "of on or our so than that the their them then there these they this to us was we what "
    "when where which who why will with would you your".split()
)

GREETINGS = ["hi, ", "hey ", "hello! ", "quick question: ", "hi there, ", "", "", ""]


def casual(question: str, rng: random.Random) -> str:
    """Lower case, a greeting maybe, and the question mark maybe gone."""
    text = question[0].lower() + question[1:] if question else question
    if rng.random() < 0.5:
        text = text.rstrip("?").rstrip()
    return rng.choice(GREETINGS) + text


def typo(question: str, rng: random.Random) -> str:
    """One slip of the fingers in a longer word: two letters swapped or one dropped."""
    words = question.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return question
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = (word[:j] + word[j + 1] + word[j] + word[j + 2:]) if rng.random() < 0.5 else word[:j] + word[j + 1:]
    return " ".join(words)


def variants(question: str, rng: random.Random, count: int) -> list[str]:
    """`count` different phrasings of question, the plain one first."""
    found = [question]
    for style in (casual, typo, lambda q, r: typo(casual(q, r), r)):
        if len(found) >= count:
            break
        styled = style(question, rng)
        if styled not in found:
            found.append(styled)
    return found[:count]


FIELD_LINE = re.compile(r"^([A-Z][A-Za-z /-]{1,30}):\s+(.+)$")  # "Price: $89.00" in a record document
WH_BY_FACT = {
    "price": ["How much is it", "What does it cost", "What's the price"],
    "percent": ["How much is it", "What percentage"],
    "date": ["When", "By what date"],
    "time": ["What time", "When"],
    "number": ["How many", "How long", "What number"],
}
GENERIC = ["What about", "Tell me about", "What's the rule on", "Can you explain", "Question about"]
HEADING_TEMPLATES = ["What is your policy on {h}?", "Can you tell me about {h}?", "{H}: how does it work?",
                     "What should I know about {h}?"]
FIELD_TEMPLATES = {
    "price": ["How much is the {name}?", "What does the {name} cost?"],
    "sku": ["What is the SKU of the {name}?"],
    "in stock": ["Which sizes of the {name} are in stock?", "Is the {name} in stock?"],
    "materials": ["What is the {name} made of?"],
    "care": ["How do I wash the {name}?"],
}
FIELD_DEFAULT = ["What is the {field} of the {name}?", "{name} {field}?"]


def record_fields(text: str) -> list[tuple[str, str]]:
    """The (field, value) pairs of a record document's "Field: value" lines."""
    return [m.groups() for m in (FIELD_LINE.match(line.strip()) for line in text.splitlines()) if m]


def record_question(name: str, field: str, rng: random.Random) -> str:
    """A question about one field of a record ("How much is the Trailhead Rain Jacket?")."""
    return rng.choice(FIELD_TEMPLATES.get(field, FIELD_DEFAULT)).format(name=name, field=field)


def fact_sentences(text: str) -> list[str]:
    """The sentences, list items, table rows and record lines of text that state something
    checkable or specific, as the focused evidence shows them (knowledge/focus.py), a list's
    items without their lead-in: a question is asked about an item's own words (with the
    lead-in on every item, the questions generated to calibrate a shop's hand-off threshold
    changed, and Kettle & Leaf's moved to 0.35 and answered more it should hand off)."""
    return [s for s in sentences(text, lead_ins=False) if len(s.split()) >= 5]


def sentence_question(sentence: str, topic: str, rng: random.Random) -> str | None:
    """A question a shopper might ask that this sentence answers: the question word its
    fact calls for and a phrase of the sentence without the fact itself."""
    facts = extract(sentence)
    phrase = _phrase(sentence, {f.text for f in facts}, rng)
    if phrase is None:
        return None
    kinds = [f.kind for f in facts if f.kind in WH_BY_FACT]
    if kinds and rng.random() < 0.7:
        return f"{rng.choice(WH_BY_FACT[kinds[0]])} {phrase}?"
    lead = rng.choice(GENERIC)
    return f"{lead} {phrase}?" if rng.random() < 0.6 else f"{topic}: {lead.lower()} {phrase}?"


def _phrase(sentence: str, fact_texts: set[str], rng: random.Random) -> str | None:
    """3 to 6 consecutive words of the sentence, none of them a fact, two of them content."""
    words = sentence.rstrip(".!?").split()
    fact_words = {w for f in fact_texts for w in f.split()}
    windows = []
    for size in (6, 5, 4, 3):
        for start in range(0, len(words) - size + 1):
            window = words[start:start + size]
            if any(w in fact_words or any(ch.isdigit() for ch in w) for w in window):
                continue
            content = [w for w in window if w.lower().strip(",;:()") not in STOPWORDS]
            if len(content) >= 2 and window[-1].lower() not in STOPWORDS:
                windows.append(window)
    if not windows:
        return None
    window = rng.choice(windows[:12])
    return " ".join(w.strip(",;:()\"") for w in window).strip()
