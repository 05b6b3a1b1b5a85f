"""The question as meant: follow-ups read with the question before them, typos corrected,
a message in another language rewritten (by the model) in the documents' language."""

import pytest

from chatbot.question import is_follow_up, rewrite_with_rules, understand
from tests.conftest import make_settings


@pytest.mark.parametrize("text", [
    "and for shoes?", "what about XL?", "how about the women's one", "does it come in black?",
    "is that free?", "in XL?", "how much is it", "ok and to Canada?",
])
def test_follow_ups_are_recognized(text):
    assert is_follow_up(text)


@pytest.mark.parametrize("text", [
    "can I return a washed rain jacket?", "how much does shipping to Canada cost?",
    "does the Trailhead jacket come in XL?", "where is my order A1042?",
])
def test_standalone_questions_are_not_follow_ups(text):
    assert not is_follow_up(text)


class Unused:
    """A generator that must not be asked (rules mode, English)."""
    tokenizer = None

    def stream(self, *args, **kwargs):
        raise AssertionError("the model was asked to rewrite")


def test_rules_search_a_follow_up_alone_and_with_the_question_before(retriever, tmp_path):
    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "can I return a washed rain jacket?"},
               {"role": "assistant", "content": "Washed items cannot be returned as ordinary returns."}]
    question = understand("and for shoes?", history, retriever=retriever, generator=Unused(), settings=settings)
    assert question.rewrite == "rules"
    # The new subject takes the place of the previous one's word most like it.
    assert question.queries == ("can I return a washed rain shoes?", "and for shoes?")
    assert question.own == "and for shoes?" and question.language.code == "en"
    assert question.asked == "and for shoes?"  # answered with the conversation, not the swapped question


@pytest.mark.parametrize("previous, text, asked", [
    ("How much is the Women's Nimbus Synthetic Vest?", "how much does it wiegh?",
     "how much does the Women's Nimbus Synthetic Vest weigh?"),
    ("How much is the Men's Trailhead Rain Pants?", "the kids' size I mean", "How much is the Kids' Trailhead Rain Pants?"),
])
def test_a_follow_up_made_a_question_about_one_product_is_the_question_answered(retriever, tmp_path,
                                                                                previous, text, asked):
    """Shown "and what is it made of?" after the parka's weight, the model answered the weight again."""
    history = [{"role": "user", "content": previous}, {"role": "assistant", "content": "It is [1]."}]
    question = understand(text, history, retriever=retriever, generator=Unused(), settings=make_settings(tmp_path))
    assert question.asked == asked and question.own == retriever.spell(text).text


@pytest.mark.parametrize("previous, text, standalone", [
    ("how much is the Trailhead rain jacket?", "what about the rain pants?", "how much is the Trailhead rain pants?"),
    ("do you ship to Canada?", "and to Mexico?", "do you ship to Mexico?"),
    ("does the Trailhead jacket come in XL?", "does it come in black?",
     "does the Trailhead jacket come in XL? does it come in black?"),  # adds, so joined
    ("how long do refunds take?", "and is that free?", "how long do refunds take? and is that free?"),
])
def test_rules_swap_a_new_subject_in_or_join(retriever, previous, text, standalone):
    from chatbot.question import rewrite_with_rules

    assert rewrite_with_rules(text, previous, retriever) == standalone


def test_a_standalone_question_is_searched_as_typed_with_typos_corrected(retriever, tmp_path):
    settings = make_settings(tmp_path)
    question = understand("does the trailhed jaket come in XL?", [], retriever=retriever, generator=Unused(),
                          settings=settings)
    assert question.rewrite is None
    assert question.queries == ("does the trailhead jacket come in XL?",)
    assert question.corrections == (("trailhed", "trailhead"), ("jaket", "jacket"))


class Rewriter:
    """A generator standing in for the language model's rewrite (the model itself is tested
    in test_pipeline.py); records what it was asked."""
    tokenizer = None

    def __init__(self, line):
        self.line, self.asked = line, []

    def stream(self, messages, **kwargs):
        self.asked.append(messages)
        yield from [self.line[:10], self.line[10:], "\nmore"]


def test_a_message_in_another_language_is_rewritten_in_the_documents_language(retriever, tmp_path):
    settings = make_settings(tmp_path)
    model = Rewriter("Can I return washed hiking boots?")
    question = understand("¿Puedo devolver unas botas de montaña que ya lavé?", [], retriever=retriever,
                          generator=model, settings=settings)
    assert question.language.code == "es" and question.rewrite == "model"
    assert question.queries == ("Can I return washed hiking boots?", "¿Puedo devolver unas botas de montaña que ya lavé?")
    assert "English" in model.asked[0][0]["content"]
    assert question.own == "Can I return washed hiking boots?"  # the hand-off cues read English


def test_a_rewrite_that_copies_an_example_or_says_nothing_is_not_used(retriever, tmp_path):
    from chatbot.question import REWRITE_EXAMPLES

    settings = make_settings(tmp_path)
    for said in [REWRITE_EXAMPLES[1][1], "[1]"]:
        question = understand("¿Hacen envíos a Canadá?", [], retriever=retriever, generator=Rewriter(said),
                              settings=settings)
        assert question.queries == ("¿Hacen envíos a Canadá?",) and question.rewrite is None


def test_model_mode_rewrites_english_follow_ups(retriever, tmp_path):
    settings = make_settings(tmp_path, query_rewrite="model")
    history = [{"role": "user", "content": "can I return a washed rain jacket?"}]
    model = Rewriter("Can I return worn shoes?")
    question = understand("and for shoes?", history, retriever=retriever, generator=model, settings=settings)
    assert question.queries == ("Can I return worn shoes?", "and for shoes?") and question.rewrite == "model"
    assert model.asked[0][-1]["content"] == "Earlier: can I return a washed rain jacket?\nLast: and for shoes?"


def test_a_follow_up_finds_the_product_the_previous_question_misspelled(retriever, tmp_path):
    history = [{"role": "user", "content": "price of mens thermogrd synthteic crew ?"},
               {"role": "assistant", "content": "It costs $49.00 [1]."}]
    question = understand("and the wieght?", history, retriever=retriever, generator=Unused(),
                          settings=make_settings(tmp_path))
    assert question.query == "the weight of the Men's Thermograd Synthetic Crew"


def test_a_follow_up_to_a_follow_up_leans_on_the_question_they_follow(retriever, tmp_path):
    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "How much is the Men's Couloir GTX Pro Shell?"},
               {"role": "assistant", "content": "It costs $449.00 [1]."},
               {"role": "user", "content": "does it come in XL?"},
               {"role": "assistant", "content": "Yes [1]."}]
    question = understand("and how much does it weigh?", history, retriever=retriever, generator=Unused(),
                          settings=settings)
    # "it" is the product the chain's first message named.
    assert question.query == "and how much does the Men's Couloir GTX Pro Shell weigh?"


def test_a_follow_up_leans_on_the_question_the_message_before_was_understood_as(retriever, tmp_path):
    """Stored with each message (chatbot/conversations.py): the chain of messages as typed
    named the Aspen 2P, and in another language no product the English rules could read."""
    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "how much is the aspen 2p tent?"},
               {"role": "user", "content": "and the 3-person version?",
                "question": "how much is the Aspen 3P Backpacking Tent?"}]
    question = understand("how much does it weigh?", history, retriever=retriever, generator=Unused(),
                          settings=settings)
    assert question.query == "how much does the Aspen 3P Backpacking Tent weigh?"

    history = [{"role": "user", "content": "how much is the aspen 3p tent?"},
               {"role": "user", "content": "¿Y cuánto pesa?",
                "question": "How much does the Aspen 3P Backpacking Tent weigh?"}]
    question = understand("Und wie schwer ist das?", history, retriever=retriever,
                          generator=Rewriter("And how heavy is it?"), settings=settings)
    assert question.query == "And how heavy is the Aspen 3P Backpacking Tent?"

    # Joined questions joined again keep the last CHAIN (3): they do not grow turn after turn.
    history = [{"role": "user", "content": "and for backpacks?",
                "question": "how long do I have to return boots? and for jackets? and for tents? and for backpacks?"}]
    question = understand("and for gloves?", history, retriever=retriever, generator=Unused(), settings=settings)
    assert question.query.startswith("and for jackets? and for tents?")


@pytest.mark.parametrize("previous, text, standalone", [
    ("How long is the warranty on jackets?", "sorry, I meant backpacks",  # not alike enough to swap: joined
     "How long is the warranty on jackets? sorry, I meant backpacks"),
    ("How much is shipping to Germany?", "oops, I meant Canada", "How much is shipping to Canada?"),
    # Another owner's product of the same name, when the catalog has it, in place of the words
    # that named the first (shoppers seldom write a whole title).
    ("How much is the Men's Basecamp Fleece?", "oh wait, the women's one please",
     "How much is the Women's Basecamp Fleece Jacket?"),
    ("How much is the Men's Trailhead Rain Pants?", "the kids' size I mean", "How much is the Kids' Trailhead Rain Pants?"),
    # A sibling named by its number, in words the catalog does not use ("2P", "20 L").
    ("How much is the Aspen 2P Backpacking Tent?", "and the 3-person version?", "How much is the Aspen 3P Backpacking Tent?"),
    ("How much is the Aspen 1P Backpacking Tent?", "no wait, I meant the two-person one",
     "How much is the Aspen 2P Backpacking Tent?"),
    ("How much is the Stream Dry Bag 10 L?", "oops, the 20 liter one I mean", "How much is the Stream Dry Bag 20 L?"),
    ("how much is the aspen 2p tent?", "and the 3-person version?", "how much is the Aspen 3P Backpacking Tent?"),
    ("is the 10 liter stream dry bag waterproof?", "the 20 liter one I mean",
     "is the Stream Dry Bag 20 L waterproof?"),
])
def test_a_correction_puts_what_the_shopper_meant_in_place(retriever, previous, text, standalone):
    from chatbot.question import rewrite_with_rules

    assert is_follow_up(text)
    assert rewrite_with_rules(text, previous, retriever) == standalone


def test_english_typed_fast_is_not_taken_for_another_language(retriever, tmp_path):
    question = understand("and on hikng boots", [{"role": "user", "content": "how long is the warranty on packs?"}],
                          retriever=retriever, generator=Unused(), settings=make_settings(tmp_path))
    assert question.language.code == "en" and not question.language.unsupported


def test_a_new_question_in_another_language_is_translated_without_the_one_before(retriever, tmp_path):
    """With the conversation shown, the model merged a new question into the last one; only a
    translation that reads as a follow-up is rewritten again with the conversation."""
    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "¿Cuántos días tengo para devolver un artículo?"}]
    model = Rewriter("How much does the return label cost?")
    question = understand("¿Cuánto cuesta la etiqueta de devolución?", history, retriever=retriever,
                          generator=model, settings=settings)
    assert len(model.asked) == 1 and "Earlier:" not in model.asked[0][-1]["content"]
    assert question.own == question.asked == "How much does the return label cost?"

    follow_up = Rewriter("And how much does it weigh?")
    question = understand("¿Y cuánto pesa?", history, retriever=retriever, generator=follow_up, settings=settings)
    assert len(follow_up.asked) == 2 and follow_up.asked[1][-1]["content"].startswith("Earlier: ¿Cuántos días")

    # About a product the conversation named, the product goes in the pronoun's place, as in
    # English: the model, shown the conversation, asked for the price again.
    product = [{"role": "user", "content": "¿Cuánto cuesta el Firefly Stove Kit?"}]
    follow_up = Rewriter("And how much does it weigh?")
    question = understand("¿Y cuánto pesa?", product, retriever=retriever, generator=follow_up, settings=settings)
    assert len(follow_up.asked) == 1 and question.queries[0] == "And how much does the Firefly Stove Kit weigh?"


@pytest.mark.parametrize("previous, text, rewritten", [
    ("How much is the Women's Nimbus Synthetic Vest?", "how much does it weigh?",
     "how much does the Women's Nimbus Synthetic Vest weigh?"),
    ("How much is the Men's Ember Down Vest?", "and the wieght?", "the wieght of the Men's Ember Down Vest"),
    ("What does the Firefly Stove Kit cost?", "And how heavy is that?", "And how heavy is the Firefly Stove Kit?"),
    # A name two products share (the men's and the women's shell): joined, not guessed.
    ("How much is the Couloir GTX Pro Shell?", "does it come in XL?",
     "How much is the Couloir GTX Pro Shell? does it come in XL?"),
])
def test_a_follow_up_about_a_named_product_asks_about_that_product(retriever, previous, text, rewritten):
    assert rewrite_with_rules(text, previous, retriever) == rewritten


def test_a_short_follow_up_keeps_the_language_the_last_message_was_read_in(retriever, tmp_path):
    """Lingua reads "price of mens thermogrd synthteic crew ?" as German; the desk reads it as
    English typed fast, and so the follow-up too short to detect is English as well."""
    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "price of mens thermogrd synthteic crew ?"}]
    question = understand("and the wieght?", history, retriever=retriever, generator=Unused(), settings=settings)
    assert question.language.code == "en"


def test_a_sibling_is_named_by_one_number_and_only_when_the_catalog_has_exactly_one(retriever):
    from chatbot.question import sibling

    assert sibling("Aspen 2P Backpacking Tent", "the 3-person version", retriever) == "Aspen 3P Backpacking Tent"
    assert sibling("Switchback 18 Daypack", "the 30", retriever) == "Switchback 30 Daypack"
    assert sibling("Aspen 2P Backpacking Tent", "the 5-person one", retriever) is None  # none with 5P
    assert sibling("Aspen 2P Backpacking Tent", "the green one", retriever) is None  # no number
    assert sibling("Aspen 2P Backpacking Tent", "the one-person one", retriever) == "Aspen 1P Backpacking Tent"
    assert sibling("Aspen 2P Backpacking Tent", "2 or 3 person", retriever) is None  # which one?



def test_a_translated_follow_up_naming_another_variant_asks_about_that_product(retriever, tmp_path):
    """"¿Y la versión de 3 personas?" after the Aspen 2P's price: the previous question about the
    Aspen 3P, translated (retrieval on the message alone found a tarp and a first-aid kit)."""
    lines = iter(["And the 3-person version?", "How much does the Aspen 3P Backpacking Tent cost?"])

    class Translator:
        tokenizer = None
        asked = []

        def stream(self, messages, **kwargs):
            self.asked.append(messages[-1]["content"])
            yield next(lines)

    model = Translator()
    history = [{"role": "user", "content": "¿Cuánto cuesta el Aspen 2P Backpacking Tent?"}]
    question = understand("¿Y la versión de 3 personas?", history, retriever=retriever, generator=model,
                          settings=make_settings(tmp_path))
    assert model.asked[1].endswith("¿Cuánto cuesta el Aspen 3P Backpacking Tent?")  # swapped, then translated
    assert question.asked == question.queries[0] == "How much does the Aspen 3P Backpacking Tent cost?"


@pytest.mark.parametrize("text, product", [
    ("how much is the aspen 2p tent?", "Aspen 2P Backpacking Tent"),  # a name as shoppers shorten it
    ("is the 10 liter stream dry bag waterproof?", "Stream Dry Bag 10 L"),
    ("does the women's nimbus vest come in M?", "Women's Nimbus Synthetic Vest"),
    ("price of mens thermograd synthetic crew ?", "Men's Thermograd Synthetic Crew"),  # whose, typed plainly
    ("How much is the Men's Couloir GTX Pro Shell?", "Men's Couloir GTX Pro Shell"),
    ("does the nimbus vest come in M?", None),  # the men's or the women's
    ("how much is the aspen 2p?", None),  # the tent or its footprint
    ("can I return a washed rain jacket?", None),  # words of many names, no name's own word
    ("how long do I have to return boots?", None),
])
def test_a_product_is_named_by_its_name_or_by_the_words_shoppers_shorten_it_to(retriever, text, product):
    assert retriever.product_named(text) == product
    named = retriever.mention(text)
    if product is not None:  # where: the words that named it
        assert named.title == product
        assert retriever.product_named(text[named.start:named.end]) == product


def test_only_a_question_that_leans_on_the_ones_before_is_shown_them(retriever, tmp_path):
    """The prompt keeps the shopper's earlier messages for a follow-up still asked as typed,
    not for a question that stands alone or was made one about a single product."""
    from chatbot.pipeline import shoppers_turns

    settings = make_settings(tmp_path)
    history = [{"role": "user", "content": "can I return a washed rain jacket?",
                "question": "can I return a washed rain jacket?"},
               {"role": "assistant", "content": "Washed items cannot be returned as ordinary returns. [1]"}]
    asked = lambda text: understand(text, history, retriever=retriever, generator=Unused(), settings=settings)  # noqa: E731
    assert shoppers_turns(history, asked("and for shoes?")) == [
        {"role": "user", "content": "can I return a washed rain jacket?"}]
    assert shoppers_turns(history, asked("how much is the aspen 3p tent?")) == []
    history[0] = {"role": "user", "content": "how much is the aspen 3p tent?"}
    about = asked("how much does it weigh?")
    assert about.asked == "how much does the Aspen 3P Backpacking Tent weigh?" and shoppers_turns(history, about) == []
