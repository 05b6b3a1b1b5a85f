"""The question as the shopper meant it: the first part of step 3, before any search.

A shopper's message is often not a question retrieval can answer alone: "and for shoes?"
follows "can I return a washed rain jacket?", "trailhed jaket" means "Trailhead jacket",
"¿puedo devolver unas botas?" is asked of a shop whose documents are in English. `understand()`
turns it into the queries retrieval searches, and says which language to answer in:

1. Language: the shopper's, if the shop answers in it (chatbot/language.py).
2. Standalone: a follow-up (FOLLOW_UP cues, or too few words of its own) is read with the
   question before it. `rules` (the default) searches the follow-up both alone and joined
   to the shopper's previous message, and keeps the better evidence of the two; `model`
   asks the language model to rewrite it as one standalone question. A message in another
   language than the documents' is always rewritten by the model, which translates it.
3. Typos: words the shop's documents do not have are corrected to ones they have
   (knowledge/spelling.py), in every query.

For a follow-up the prompt keeps the shopper's recent messages (chatbot/pipeline.py
`shoppers_turns`), so the model reads it in its context; only retrieval needs the standalone
form. A question that stands alone, or a follow-up made one about a single product ("how
much does the Aspen 3P Backpacking Tent cost?"), is answered alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.language import ReplyLanguage, reply_language
from knowledge.keyword import terms
from knowledge.retrieval import OWNER
from knowledge.spelling import Correction

# Openings that put a new subject in the previous question's place ("and for shoes?",
# "what about XL?"), and openings that ask more about the same subject ("does it ...?").
SWAP_OPENING = (r"(?:(?:ok(?:ay)?,? )?(?:and|or|also|plus|then)(?: what about| how about)?|what about|how about|"
                r"same (?:for|with)|(?:(?:no|oh|oops|sorry|wait|actually|hm+)\b[ ,.!]*)*(?:i )?(?:meant|mean)\b)")
# A correction's subject may come first ("the 30 liter one I mean") or trail a "not X".
_CORRECTION_TAIL = re.compile(r"(?:[ ,]+(?:i )?(?:meant|mean)|,? not [^,.?!]+|[ ,]+please)\s*[.!?]*$", re.IGNORECASE)
_CORRECTION_LEAD = re.compile(r"^(?:(?:no|oh|oops|sorry|wait|actually|hm+)\b[ ,.!]*)+", re.IGNORECASE)
MORE_OPENING = (r"(?:but|so|what if|is (?:it|that|this|there)|are (?:they|those|these)|does (?:it|that|this)|"
                r"do (?:they|those|these)|can (?:it|they|i do that)|will (?:it|they)|would (?:it|that))")
SWAP = re.compile(rf"^\s*{SWAP_OPENING}\b", re.IGNORECASE)
FOLLOW_UP = re.compile(rf"^\s*(?:{SWAP_OPENING}|{MORE_OPENING})\b", re.IGNORECASE)
# A word that stands for a product named before ("does it come in XL?", "how heavy is that?").
_ITEM = re.compile(r"\b(?:it|they|them)\b|\b(?:that|this)(?=\s*[?.!]*$)", re.IGNORECASE)
# Words that point back at something named before.
POINTERS = re.compile(r"\b(?:it|its|that|this|they|them|those|these|one|ones|there|same)\b", re.IGNORECASE)
# What may stand before the new subject of a follow-up: "and for shoes", "what about in XL".
_SUBJECT_LEAD = re.compile(r"^\s*(?:for|about|with|in|on|to|the|a|an)\b\s*", re.IGNORECASE)
# A number a follow-up names a variant by: "the 3-person version", "the two-person one" (a
# word only joined to what it counts: "the green one" names no number).
NUMBER_WORDS = {w: n for n, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), 1)}
_NUMBER = re.compile(rf"\d+|\b(?:{'|'.join(NUMBER_WORDS)})(?=-[^\W\d_])", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^\d+")
READS_AS_SHARE = 0.75  # a message this share of whose words are common in a language is in it
CHAIN = 3  # user messages (or questions) at most that make up the question a follow-up leans on
_QUESTION_END = re.compile(r"(?<=[?!.])\s+")
SWAP_SIMILARITY = 0.45  # a previous word at least this like the follow-up's subject is replaced by it
OWN_TERMS = 2  # a message with at most this many search terms of its own leans on the last one
REWRITE_TOKENS = 48

REWRITE_RULES = (
    "You rewrite a shopper's last message as one complete, standalone question in {language}, for "
    "searching a shop's help pages. Use the earlier messages only to fill in what the last message "
    "leaves out. Translate it to {language} if it is in another language. Keep product names, sizes, "
    "colours and order numbers. Write only the question."
)
# Worked examples shown before the message (a 0.5B model follows examples far better than rules);
# written for English documents: a shop whose documents are in another language writes its own.
REWRITE_EXAMPLES = [
    ("Earlier: can I return a washed rain jacket?\nLast: and for shoes?", "Can I return washed shoes?"),
    ("Last: ¿Cuánto cuesta el envío a México?", "How much does shipping to Mexico cost?"),
    ("Earlier: does the Alpine fleece come in M?\nLast: and in red?", "Does the Alpine fleece come in red?"),
    ("Last: Wie lange dauert eine Rückerstattung?", "How long does a refund take?"),
    ("Earlier: how much is express delivery?\nLast: et pour la Belgique ?", "How much is express delivery to Belgium?"),
]
_ECHO = re.compile(r"\s*(?:\[|\b(?:Last|Earlier)\s*:).*$", re.DOTALL)


@dataclass(frozen=True)
class Question:
    text: str  # as the shopper wrote it (personal data already masked)
    queries: tuple[str, ...]  # what retrieval searches, in the documents' language, best first
    language: ReplyLanguage  # which language to answer in
    own: str  # the message alone in the documents' language, typos corrected: what the hand-off
    #           cues read (a follow-up must not inherit the last message's "lawyer")
    # The question the model answers, in the documents' language (the answer is translated
    # afterwards, chatbot/translation.py): the message with its typos corrected, or its
    # translation. Not a follow-up's standalone rewrite: the model reads the follow-up with the
    # shopper's messages before it (the prompt keeps them), and the rules' joined or swapped
    # questions in the prompt lost 0.12 follow-up key facts. Except a rewrite that makes it a
    # question about one product ("how much does it weigh?" -> "how much does the Nimbus vest
    # weigh?", "the kids' size I mean" -> "How much is the Kids' Trailhead Rain Pants?"): shown
    # the message alone, the model answered the previous question's field again.
    asked: str
    rewrite: str | None = None  # "rules" or "model" when the message was not searched alone
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, corrected)
    # Whether `asked` leans on the questions before it: a follow-up not made a question about
    # one product. Only then does the prompt keep the shopper's earlier messages
    # (chatbot/pipeline.py `shoppers_turns`).
    follows: bool = False

    @property
    def query(self) -> str:
        """The query that stands for the question in its conversation (orders, focus)."""
        return self.queries[0]


def understand(text: str, history: list[dict[str, str]], *, retriever, generator, settings) -> Question:
    """The queries for text in its conversation, and the language to answer in."""
    documents = settings.shop_languages[0]
    language = reply_language(_unnamed(text, retriever), _previous_language(history, settings, retriever),
                              settings.shop_languages)
    if language.detected not in (None, documents) and _reads_as(text, documents, language.detected, retriever):
        language = ReplyLanguage(documents, documents, False)  # typed fast, not another language
    previous = _last_question(history)
    leans = previous is not None and is_follow_up(text)
    # Another language than the documents': the message's, or, too short to tell ("¿Y cuánto
    # pesa?"), the conversation's.
    foreign = (language.detected or language.code) != documents

    queries, rewrite = [text], None
    about = None  # a follow-up made a standalone question about one product: what the model answers
    if foreign:
        # Translated alone first: with the conversation shown, the model merged a new question
        # into the one before it. Only a translation that reads as a follow-up is rewritten
        # again with the conversation.
        translated = rewrite_with_model(text, [], generator, documents)
        standalone = translated
        leans = bool(translated) and previous is not None and is_follow_up(translated)
        if leans:
            # A product the conversation named goes in its pronoun's place, as in the documents'
            # language ("And how much does it weigh?"): the model, shown the conversation, asked
            # the previous question again.
            about = about_product(translated, previous, retriever) or _variant(translated, previous, retriever,
                                                                                  generator, documents)
            standalone = about or rewrite_with_model(text, history, generator, documents) or translated
        if translated:  # the message as typed is searched too: the model's rewrite may miss
            queries, rewrite = list(dict.fromkeys([standalone, translated, text])), "model"
    elif leans and settings.query_rewrite == "model":
        rewritten = rewrite_with_model(text, history, generator, documents)
        if rewritten:
            queries, rewrite = [rewritten, text], "model"
    elif leans:
        # The previous question read with its typos corrected, as its own search was: "price of
        # mens thermogrd synthteic crew" names the product "and the wieght?" asks about.
        previous = retriever.spell(previous).text
        about = about_product(text, previous, retriever)  # "how much does it weigh?"
        standalone = about or rewrite_with_rules(text, previous, retriever)
        queries, rewrite = [standalone, text], "rules"
        if retriever.product_named(standalone) not in (None, retriever.product_named(previous)):
            about = standalone  # "the kids' size I mean": about another product

    # Typos are corrected in the documents' language only: the message as typed in another is
    # searched as it is.
    corrected = [retriever.spell(q) if not (foreign and q == text) else Correction(q, ()) for q in queries]
    changes = tuple(change for c in corrected for change in c.changes)
    # The message alone: as typed, or its translation (another language: the cues are the documents').
    own = corrected[-2].text if foreign and rewrite else corrected[-1].text
    queries = tuple(dict.fromkeys(c.text for c in corrected))
    # A question about one product is the first query, already corrected.
    asked = corrected[0].text if about else own if foreign else corrected[-1].text
    return Question(text, queries, language, own, asked, rewrite, changes, leans and not about)


def is_follow_up(text: str) -> bool:
    """Whether text leans on the question before it (see FOLLOW_UP and POINTERS)."""
    if FOLLOW_UP.search(text) or _CORRECTION_TAIL.search(text) or _CORRECTION_LEAD.match(text):
        return True
    own = terms(POINTERS.sub(" ", text))
    if any(any(c.isdigit() for c in t) and len(t) >= 4 for t in own):
        return False  # it names an order or a SKU: that is its subject
    return len(own) <= OWN_TERMS or (POINTERS.search(text) is not None and len(own) <= OWN_TERMS + 1)


def rewrite_with_rules(text: str, previous: str, retriever) -> str:
    """A follow-up made standalone without the model. "and for shoes?" after "can I return a
    washed rain jacket?" swaps the new subject in for the previous question's words most like
    it ("can I return a washed rain shoes?"; "what about the rain pants?" after "how much is
    the Trailhead rain jacket?" swaps "rain jacket"): the embedding finds which words it
    replaces, and swaps only when one is like it (SWAP_SIMILARITY). Otherwise, and for a
    follow-up that adds rather than swaps ("does it come in black?"), it is joined to the
    previous question. A follow-up about a product the previous question named puts the
    product in its pointer's place ("how much does the Nimbus vest weigh?"), or asks for the
    field it names of it ("and the weight?": "the weight of the Nimbus vest"), or another
    owner's product of its name ("the kids' size I mean": the Kids' Trailhead Rain Pants)."""
    pointed = about_product(text, previous, retriever)
    if pointed is not None:
        return pointed
    named = retriever.mention(previous)
    product = named.title if named else None
    if _CORRECTION_TAIL.search(text) and not SWAP.match(text):  # "oops, the 30 liter one I mean"
        text = "I mean " + _CORRECTION_TAIL.sub("", _CORRECTION_LEAD.sub("", text))
    opening = SWAP.match(text)
    subject = _SUBJECT_LEAD.sub("", _CORRECTION_TAIL.sub("", text[opening.end():]) if opening else "").strip(" ?!.,")
    subject = re.sub(r"\s+(?:one|version|size|model)$", "", subject, flags=re.IGNORECASE)
    if named is not None and opening and subject:
        # "the kids' size I mean" after the men's rain pants: the catalog's kids' ones, if it has them.
        # "and the 3-person version?" after the aspen 2p tent: the Aspen 3P, its sibling by number,
        # in place of the words that named the 2P.
        variant = sibling(product, subject, retriever) or retriever.product_named(f"{subject} {OWNER.sub('', product)}")
        if variant not in (None, product):
            return previous[:named.start] + variant + previous[named.end:]
    words = [m for m in re.finditer(r"[^\W\d_]+(?:'s)?", previous) if terms(m.group(0))]
    if not opening or not terms(subject) or not words or POINTERS.search(subject):
        return f"{previous} {text}"
    vectors = retriever.text_vectors([m.group(0) for m in words] + [subject])
    like = vectors[:-1] @ vectors[-1]
    best = int(like.argmax())
    if like[best] < SWAP_SIMILARITY:
        # "and the weight?" after "How much is the Nimbus vest?": that field of the product.
        if product is not None and set(terms(retriever.spell(subject).text)) & _field_terms(product, retriever):
            return f"the {subject} of the {product}"
        return f"{previous} {text}"
    first = last = best  # the span: neighbours just as like the subject ("rain jacket")
    while first > 0 and like[first - 1] >= SWAP_SIMILARITY:
        first -= 1
    while last + 1 < len(words) and like[last + 1] >= SWAP_SIMILARITY:
        last += 1
    return previous[:words[first].start()] + subject + previous[words[last].end():]


def about_product(text: str, previous: str, retriever) -> str | None:
    """text with the product the previous question named in its pronoun's place ("how much
    does it weigh?" after "How much is the Nimbus vest?": "how much does the Nimbus vest
    weigh?"); None if text names a product itself, points at none, or none was named."""
    product = retriever.product_named(previous)
    if product is None or not _ITEM.search(text) or retriever.product_named(text) is not None:
        return None
    return _ITEM.sub(f"the {product}", text, count=1)


def _variant(translated: str, previous: str, retriever, generator, documents: str) -> str | None:
    """A translated follow-up naming another variant of the previous question's product ("¿Y la
    versión de 3 personas?": "And the 3-person version?"), as the previous question about that
    product, in the documents' language; None if it names none."""
    product = retriever.product_named(previous)
    if product is None:
        return None
    swapped = rewrite_with_rules(translated, previous, retriever)
    if retriever.product_named(swapped) in (None, product):
        return None
    return rewrite_with_model(swapped, [], generator, documents) or swapped


def sibling(product: str, subject: str, retriever) -> str | None:
    """The catalog's product named as product is but for one word that starts with the number
    subject names ("3-person", "two-person": the Aspen 3P Backpacking Tent beside the Aspen 2P;
    "the 20 liter one": the Stream Dry Bag 20 L beside the 10 L); None if subject names no
    number, or no such product or several."""
    numbers = {int(n) if n.isdigit() else NUMBER_WORDS[n.lower()] for n in _NUMBER.findall(subject)}
    if len(numbers) != 1:
        return None
    wanted, words = numbers.pop(), product.split()
    found = set()
    for title in retriever.product_titles:
        other = title.split()
        differ = [(ours, theirs) for ours, theirs in zip(words, other) if ours != theirs]
        if len(other) == len(words) and len(differ) == 1 and _LEADING_NUMBER.match(differ[0][0]):
            number = _LEADING_NUMBER.match(differ[0][1])
            if number and int(number.group(0)) == wanted:
                found.add(title)
    return next(iter(found)) if len(found) == 1 else None


def _field_terms(product: str, retriever) -> set[str]:
    """The terms of the field names of the product's record ("weight", "materi", "price")."""
    from knowledge.phrasing import record_fields

    return {t for c in retriever.index.chunks if c.title == product
            for name, _ in record_fields(c.text) for t in terms(name)}


def rewrite_with_model(text: str, history: list[dict[str, str]], generator, language: str) -> str | None:
    """The model's standalone rewrite of text (in language), or None if it gave nothing usable."""
    from chatbot.language import name

    messages = [{"role": "system", "content": REWRITE_RULES.format(language=name(language))}]
    if language == "en":
        for asked, rewritten in REWRITE_EXAMPLES:
            messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": rewritten}]
    previous = _last_question(history)
    messages.append({"role": "user", "content": (f"Earlier: {previous}\n" if previous else "") + f"Last: {text}"})
    line = "".join(generator.stream(messages, max_new_tokens=REWRITE_TOKENS)).strip().split("\n", 1)[0]
    line = _ECHO.sub("", line).strip().strip('"')
    if not terms(line) or line in {rewritten for _, rewritten in REWRITE_EXAMPLES}:
        return None  # nothing, or an example copied: search the message as typed
    return line


def _last_question(history: list[dict[str, str]]) -> str | None:
    """The shopper's last question as it stands: the standalone question their last message
    was understood as, stored with it (in the documents' language: "¿Y cuánto pesa?" after
    the Aspen 3P was "How much does the Aspen 3P Backpacking Tent weigh?"); for a message
    stored without one, the message joined to the ones before it while it is itself a
    follow-up ("How much is the Couloir shell?" "does it come in XL?"). At most CHAIN
    questions either way: a follow-up the rules joined to the one before ("how long do I have
    to return boots? and for jackets?") is joined again by the next."""
    chain: list[str] = []
    for message in reversed(history):
        if message["role"] != "user":
            continue
        if message.get("question"):  # a joined question is joined again: its last CHAIN at most
            chain.insert(0, " ".join(_QUESTION_END.split(message["question"])[-CHAIN:]))
            break
        chain.insert(0, message["content"])
        if len(chain) == CHAIN or not is_follow_up(message["content"]):
            break
    return " ".join(chain) or None


def _reads_as(text: str, language: str, detected: str, retriever) -> bool:
    """Whether text is in language rather than the detected one: most of its words, typos
    corrected, are common words of language, more than of the detected one ("and on hikng
    boots" is English typed fast, though lingua reads Dutch; "Combien de jours ai-je pour
    retourner un article" has English words too, but more French ones)."""
    from chatbot.language import common_share

    # Typos are corrected to the documents' words only when reading it as their language.
    ours = common_share(retriever.spell(text).text, language)
    return ours >= READS_AS_SHARE and ours > common_share(text, detected)


def _unnamed(text: str, retriever, most: int = 3) -> str:
    """text without the shop's product names, which are in no language ("How much is the
    Men's Thermograd Synthetic Crew?" read as German)."""
    for _ in range(most):
        product = retriever.product_named(text)
        if product is None:
            break
        unnamed = re.sub(re.escape(OWNER.sub("", product)), " ", text, flags=re.IGNORECASE)  # the name, "Men's" aside
        if unnamed == text:  # named by a shortened name, not written whole: asking again finds it again
            break
        text = unnamed
    return text


def _previous_language(history: list[dict[str, str]], settings, retriever) -> str | None:
    """The language the shopper last wrote in clearly enough to tell, if any."""
    from chatbot.language import common_in, detect

    documents = settings.shop_languages[0]
    for message in reversed(history):
        if message["role"] == "user":
            unnamed = _unnamed(message["content"], retriever)
            code = detect(unnamed) or common_in(unnamed, settings.shop_languages)
            if code not in (None, documents) and _reads_as(message["content"], documents, code, retriever):
                code = documents  # typed fast, not another language: as `understand` read it
            if code is not None:
                return code if code in settings.shop_languages else None
    return None
