"""The shopper's language (chatbot/language.py) and the desk's own words in it
(chatbot/messages.py, chatbot/offers/wording.py).

LABELLED is the small set the detector's thresholds were chosen on: short shopper
messages as they are typed, with typos, lower case and missing accents.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
import yaml

from chatbot import language, messages
from chatbot.handoff import HANDOFF_REPLY
from chatbot.language import ReplyLanguage, detect, reply_language
from chatbot.messages import CatalogError, long_date, say
from chatbot.offers.wording import describe
from shopcore.schemas import Offer

LABELLED = {
    "en": [
        "where is my order A1042?",
        "can I return worn boots?",
        "does the Trailhead jacket come in XL?",
        "my package never arrived",
        "how long does shipping take to Texas",
        "i want to cancel my order",
        "the zipper broke after two days, i want a refund",
        "do you have this in a size 10",
        "can i change the delivery address",
        "what is your return policy",
        "I was charged twice for the same order",
        "when will my refund show up on my card",
        "the jacket I got is the wrong colour",
        "is the tent waterproof",
        "do u ship to canda? how much",
        "hey, my tracking hasnt updated in 5 days",
        "i ordered the wrong size, can i swap it",
        "how do i use my discount code",
        "your website keeps crashing at checkout",
        "can I pick up my order in store",
        "is there a warranty on the backpack",
        "thnks for the quick reply, that helps a lot",
        "i need the boots before friday, is express shipping available",
        "what's the difference between the two sleeping bags",
        "the item came damaged, the box was crushed",
        "can you send me an invoice for my purchase",
        "do you price match?",
        "I never got a confirmation email",
        "how do i reset my password",
        "are these shoes true to size",
        "why was my order cancelled",
        "please help, I have been waiting for three weeks",
        "can i return something i bought on sale",
        "do you offer gift wrapping",
        "the parcel says delivered but its not here",
        "is the RO-JKT-0004 jacket back in stock",
        "i'd like to speak to someone about my order",
        "how much is shipping to the uk",
        "can i pay with paypal",
        "wheres my stuff, ordered last week",
        "this is the worst service ive ever had",
        "how do I clean the down jacket",
        "recieved the wrong item, what do i do now",
        "my order #A1207 was supposed to come on 12/03",
    ],
    "es": [
        "¿dónde está mi pedido A1042?",
        "puedo devolver unos zapatos",
        "quiero cancelar mi pedido",
        "hola, mi paquete no ha llegado todavia",
        "cuanto tarda el envio a mexico",
        "la chaqueta tiene talla XL?",
        "me llego roto el producto, quiero un reembolso",
        "como cambio la direccion de entrega",
        "cual es la politica de devoluciones",
        "me cobraron dos veces el mismo pedido",
        "cuando me devuelven el dinero",
        "el color no es el que pedi",
        "la tienda de campaña es impermeable?",
        "hacen envios a argentina?",
        "necesito las botas antes del viernes",
        "no me ha llegado el correo de confirmacion",
        "puedo pagar con tarjeta de debito",
        "el pedido dice entregado pero no lo tengo",
        "tienen descuento para estudiantes",
        "quisiera hablar con una persona por favor",
        "la cremallera se rompio a los dos dias",
        "gracias por la ayuda, muy amables",
        "hola buenas, tengo una duda con mi compra",
        "se puede recoger en tienda?",
        "cuanto cuesta el envio",
        "me equivoque de talla, lo puedo cambiar?",
        "mi codigo de descuento no funciona",
        "llevo tres semanas esperando mi pedido",
        "estos zapatos son de talla grande o pequeña?",
        "por que cancelaron mi pedido",
        "la mochila tiene garantia?",
        "necesito una factura de mi compra",
        "el paquete llegó dañado",
        "es el peor servicio que he recibido",
        "¿Tienen la chaqueta en azul?",
        "ola kiero saber donde esta mi pedio",
        "no puedo entrar a mi cuenta",
        "cuando vuelve a estar disponible la chaqueta RO-JKT-0004",
        "se puede devolver algo comprado en rebajas?",
        "como lavo el saco de dormir",
        "envian a domicilio los fines de semana?",
        "muchas gracias, eso es todo",
    ],
    "de": [
        "wo ist meine bestellung A1042?",
        "kann ich getragene stiefel zurückgeben",
        "Gibt es die Jacke auch in XL?",
        "mein paket ist nie angekommen",
        "wie lange dauert der versand nach österreich",
        "ich möchte meine bestellung stornieren",
        "der reissverschluss ist nach zwei tagen kaputt gegangen",
        "kann ich die lieferadresse noch ändern",
        "wie sind eure rückgabebedingungen",
        "mir wurde zweimal abgebucht",
        "wann bekomme ich mein geld zurück",
        "die farbe stimmt nicht mit der bestellung überein",
        "ist das zelt wasserdicht?",
        "liefert ihr auch in die schweiz",
        "ich brauche die schuhe bis freitag",
        "ich habe keine bestätigungsmail bekommen",
        "kann ich mit paypal bezahlen",
        "laut sendungsverfolgung zugestellt, aber hier ist nichts",
        "gibt es einen rabatt für studenten",
        "ich möchte mit einem mitarbeiter sprechen",
        "danke für die schnelle hilfe",
        "hallo, ich habe eine frage zu meiner bestellung",
        "kann ich die ware im laden abholen",
        "was kostet der versand",
        "falsche grösse bestellt, kann ich umtauschen?",
        "mein gutscheincode funktioniert nicht",
        "ich warte schon seit drei wochen",
        "fallen die schuhe klein oder gross aus",
        "warum wurde meine bestellung storniert",
        "gibt es garantie auf den rucksack",
        "ich brauche eine rechnung",
        "das paket kam beschädigt an",
        "das ist der schlechteste service überhaupt",
        "habt ihr die jacke in blau",
        "hallo wo bleibt mein packet",
        "ich kann mich nicht einloggen",
        "wann ist die jacke RO-JKT-0004 wieder lieferbar",
        "kann ich reduzierte ware zurückschicken",
        "wie wasche ich den schlafsack",
        "liefert ihr auch am samstag",
        "vielen dank, das wars",
        "moechte die bestellung zurueckgeben, wie geht das",
        "ich moechte umtauschen, die groesse passt nicht",
    ],
    "fr": [
        "où est ma commande A1042 ?",
        "je peux retourner des chaussures portées ?",
        "la veste existe en XL ?",
        "mon colis n'est jamais arrivé",
        "combien de temps pour la livraison en belgique",
        "je veux annuler ma commande",
        "la fermeture éclair a cassé au bout de deux jours",
        "je peux changer l'adresse de livraison ?",
        "quelle est votre politique de retour",
        "j'ai été débité deux fois",
        "quand est-ce que je serai remboursé",
        "la couleur ne correspond pas à ma commande",
        "la tente est-elle imperméable ?",
        "vous livrez en suisse ?",
        "j'ai besoin des bottes avant vendredi",
        "je n'ai pas reçu l'email de confirmation",
        "je peux payer avec paypal ?",
        "le suivi dit livré mais je n'ai rien reçu",
        "vous avez une réduction étudiant ?",
        "je voudrais parler à quelqu'un s'il vous plait",
        "merci pour votre aide rapide",
        "bonjour, j'ai une question sur ma commande",
        "je peux récupérer ma commande en magasin ?",
        "combien coûte la livraison",
        "je me suis trompé de taille, je peux échanger ?",
        "mon code promo ne marche pas",
        "ça fait trois semaines que j'attends",
        "les chaussures taillent petit ou grand ?",
        "pourquoi ma commande a été annulée",
        "le sac à dos est garanti ?",
        "j'ai besoin d'une facture",
        "le colis est arrivé abîmé",
        "c'est le pire service que j'ai jamais vu",
        "vous l'avez en bleu ?",
        "bjr ou en est ma comande svp",
        "je n'arrive pas à me connecter",
        "quand la veste RO-JKT-0004 sera de nouveau dispo",
        "je peux retourner un article soldé ?",
        "comment laver le sac de couchage",
        "vous livrez le samedi ?",
        "merci beaucoup, c'est tout",
        "je voudrais etre rembourse, le produit est arrive casse",
        "ou est mon colis",
    ],
}

# Short English that must be answered in English or in the conversation's language,
# never taken for another language.
SHORT_ENGLISH = [
    "ok thanks", "hi", "and for shoes?", "do u ship to canda? how much", "thx", "ok", "yes",
    "no", "hello", "hey there", "cool", "great, thanks!", "any update?", "still nothing",
    "pls help", "order A1042", "size M?", "what about XL", "cheers", "ty", "k", "sure", "why?",
    "ok cool", "yep", "bye", "thanks a lot", "perfect", "got it", "refund?", "and boots?",
    "in blue?", "how long?", "asap pls", "nvm", "wow", "hmm", "lol ok", "same", "that's all",
    "no thanks", "thank you!", "👍", "A1042", "RO-JKT-0004?", "$25?", "great", "awesome",
    "fine", "yes please", "help", "hello?", "anyone there?", "sorry", "what?", "really?",
    "ok and in XL?", "is it in stock", "where is it", "when?", "tracking?", "thanks 🙏",
    "any discount codes?", "is it waterproof?", "can i get a refund", "ok and for shoes?",
    "what sizes do you have", "same day delivery?", "do u have it in red", "send it to my work",
    "it's too small", "still waiting", "that didn't help", "talk to a human", "ok sounds good",
    "and the tent?", "how about boots", "thank u so much", "no worries", "great, thank you!",
    "me too", "is that all?", "free shipping?", "ok, what now?", "see you", "not yet",
]


@pytest.mark.parametrize("code", sorted(LABELLED))
def test_detection_is_right_on_the_labelled_messages(code):
    found = {text: detect(text) for text in LABELLED[code]}
    right = sum(found[text] == code for text in LABELLED[code]) / len(LABELLED[code])
    assert right >= 0.95, {text: got for text, got in found.items() if got != code}
    # A miss is "too short to tell", answered in the conversation's language, never another one.
    assert {text: got for text, got in found.items() if got not in (code, None)} == {}


def test_short_english_is_never_another_language():
    found = {text: detect(text) for text in SHORT_ENGLISH}
    assert {text: got for text, got in found.items() if got not in ("en", None)} == {}
    assert found["do u ship to canda? how much"] == "en"
    assert found["ok thanks"] is None and found["hi"] is None


@pytest.mark.parametrize("text,code", [
    ("где мой заказ пожалуйста", "ru"), ("注文した商品がまだ届いていませんがどうなっていますか", "ja"),
    ("أين طلبي من فضلك أخبرني", "ar"), ("Πού είναι η παραγγελία μου παρακαλώ", "el"),
    ("ᚠᚢᚦᚨᚱᚲᚷᚹᚺᚾᛁᛃᛇ", None),  # a script no language of the set is written in
])
def test_other_scripts(text, code):
    assert detect(text) == code


def test_numbers_codes_links_and_emoji_are_no_language():
    noise = "A1042 RO-JKT-0004 #1207 $12.99 12,99 € 10.5 https://shop.example/p?id=7 me@mail.example 👍🙏"
    assert language.clean(noise).split() == ["€", "👍🙏"]
    assert detect(noise) is None
    assert detect(f"{noise} wo ist meine bestellung") == "de"


SHOP = ["en", "es", "de", "fr"]


@pytest.mark.parametrize("text,previous,shop,expected", [
    ("¿dónde está mi pedido A1042?", None, SHOP, ReplyLanguage("es", "es")),
    ("wo ist meine bestellung", "en", SHOP, ReplyLanguage("de", "de")),
    ("where is my order please", "es", SHOP, ReplyLanguage("en", "en")),  # the shopper switched
    ("ok thanks", "es", SHOP, ReplyLanguage("es", None)),  # too short: the conversation's language
    ("ok thanks", None, ["de", "en"], ReplyLanguage("de", None)),  # ...else the shop's first
    ("ok thanks", "it", SHOP, ReplyLanguage("en", None)),  # a previous language the shop dropped
    # Too short for lingua: the one shop language all its words are common in, in any conversation.
    ("Was kostet Stream Dry Bag 20 L?", "es", SHOP, ReplyLanguage("de", "de")),
    ("¿Y cuánto pesa?", "es", SHOP, ReplyLanguage("es", "es")),
    ("Was kostet Stream Dry Bag 20 L?", None, SHOP, ReplyLanguage("de", "de")),
    ("y en rojo?", None, SHOP, ReplyLanguage("es", "es")),
    ("in XL?", None, SHOP, ReplyLanguage("en", None)),  # common in all of them: tells nothing
    ("danke", None, ["en", "fr"], ReplyLanguage("en", None)),  # not the shop's: nothing to tell
    ("dov'è il mio ordine? non è ancora arrivato", None, SHOP, ReplyLanguage("en", "it", unsupported=True)),
    ("wo ist meine bestellung", "fr", ["fr", "en"], ReplyLanguage("fr", "de", unsupported=True)),
    ("我的订单在哪里呢请告诉我谢谢", "es", SHOP, ReplyLanguage("en", "zh", unsupported=True)),
])
def test_reply_language(text, previous, shop, expected):
    assert reply_language(text, previous, shop) == expected


def test_language_names():
    assert [language.name(code) for code in SHOP] == ["English", "Spanish", "German", "French"]
    assert ReplyLanguage("es", "es").name == "Spanish"
    assert language.native_name("fr") == "Français" and language.name("xx") == "xx"
    assert all(code in language.NAMES for code in language.DETECTED)


def test_one_detector_per_process():
    language._detector.cache_clear()  # as in a fresh process (lingua keeps its models loaded)
    start, found = threading.Barrier(8), []

    def first_call():
        start.wait()
        found.append(language.detector())

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(detector) for detector in found}) == 1


def test_the_catalog_has_every_text_in_every_language():
    texts = messages.load(messages.CATALOG)
    assert {"en", "es", "de", "fr"} <= set(texts)
    for code, block in texts.items():
        assert set(block) == set(texts["en"]), code
        for key, text in block.items():
            if isinstance(text, str):
                assert messages._placeholders(text, key) == messages._placeholders(texts["en"][key], key)
    for key in ["handoff", "apology", "busy", "order_not_found", "unsupported_language", "fallback_lead",
                "offer_discount", "offer_replacement", "offer_handoff"]:
        assert key in texts["en"]


def test_english_is_what_the_desk_says_today():
    assert say("handoff", "en") == HANDOFF_REPLY
    # chatbot/pipeline.py APOLOGY, chatbot/answer.py FALLBACK_LEAD, chatbot/ui.py's busy error
    assert say("apology", "en") == "Sorry, something went wrong while I was answering. Please try again in a moment."
    assert say("fallback_lead", "en") == "Here is what I found:"
    assert say("busy", "en") == "Many shoppers are asking at once: please try again in a few seconds."
    assert say("order_not_found", "en", number="A1042") == (
        "I can't find order A1042 on your account. Please check the number, or sign in with the "
        "account you ordered with; I can't share details of other orders.")


def _broken(texts, change):
    texts = {code: dict(block) for code, block in texts.items()}
    change(texts)
    return texts


@pytest.mark.parametrize("change,error", [
    (lambda t: t["es"].pop("busy"), r"`es` lacks busy"),
    (lambda t: t["de"].update(hanfoff="x"), r"`de` has hanfoff, which `en` does not"),
    (lambda t: t["fr"].update(order_not_found="Commande {numero} introuvable."),
     r"`fr.order_not_found` has the placeholders \{numero\} where `en` has \{number\}"),
    (lambda t: t["fr"].update(fallback_lead="Voici {"), r"`fr.fallback_lead`: .*brace"),
    (lambda t: t["es"].update(months=["enero"]), r"`es.months` must be a list of 12 texts"),
    (lambda t: t["de"].update(apology=None), r"`de.apology` must be a text"),
    (lambda t: t.update(spanish=t["es"]), r"'spanish' is not an ISO 639-1 code"),
    (lambda t: t.pop("en"), r"`en` among them"),
    (lambda t: t["en"].update(months=["January"]), r"`en.months` must list the twelve month names"),
])
def test_a_broken_catalog_is_refused_with_what_to_fix(tmp_path, change, error):
    path = tmp_path / "messages.yaml"
    path.write_text(yaml.safe_dump(_broken(messages.catalog(), change), allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=error):
        messages.load(path)


def test_say_fills_placeholders_and_falls_back_to_english(monkeypatch):
    assert "A1042" in say("order_not_found", "de", number="A1042")
    assert say("handoff", "es-MX") == say("handoff", "es") != say("handoff", "en")
    assert say("handoff", "it") == HANDOFF_REPLY  # a language without a block
    with pytest.raises(KeyError):
        say("order_not_found", "es")  # a placeholder without its value is a bug, not a blank
    partial = {"en": messages.catalog()["en"], "es": {"apology": "Lo siento."}}
    monkeypatch.setattr(messages, "catalog", lambda: partial)
    assert say("apology", "es") == "Lo siento."
    assert say("busy", "es") == say("busy", "en")  # a key without a text


@pytest.mark.parametrize("code,fifth,first", [
    ("en", "December 5, 2026", "March 1, 2026"),
    ("es", "5 de diciembre de 2026", "1 de marzo de 2026"),
    ("de", "5. Dezember 2026", "1. März 2026"),
    ("fr", "5 décembre 2026", "1er mars 2026"),
])
def test_dates_are_written_as_each_language_writes_them(code, fifth, first):
    assert long_date(date(2026, 12, 5), code) == fifth
    assert long_date(date(2026, 3, 1), code) == first


def test_the_unsupported_language_note_names_languages_as_shoppers_know_them():
    assert messages.language_note(SHOP) == (
        "I can only answer in English, Español, Deutsch and Français for now, so I'm replying in English.")
    assert messages.language_note(["de", "en"]) == (
        "Ich kann derzeit nur auf Deutsch und English antworten, deshalb antworte ich auf Deutsch.")


DISCOUNT = Offer("RL-7KQ2", "percent_discount", 12.5, "percent", "one use on your next order",
                 "2026-12-05T09:30:00+00:00")
REPLACEMENT = Offer("RL-X9", "express_replacement", 0, "", "no need to return anything", "2026-12-05T09:30:00")
HANDOFF = Offer(None, "handoff", 0, "", "a member of our team will take over this conversation", None)


def test_offers_in_english_are_worded_as_before():
    assert describe(DISCOUNT) == describe(DISCOUNT, "en") == (
        "I'm sorry about the trouble. As a thank-you for sticking with us, here is 12.5% off your next "
        "order with code RL-7KQ2, valid until December 5, 2026 (one use on your next order).")
    assert describe(REPLACEMENT) == (
        "I'm sorry your order let you down. We'll send a replacement by express shipping at no charge: "
        "your reference is RL-X9, valid until December 5, 2026 (no need to return anything).")
    assert describe(HANDOFF) == ("I've asked a person from our team to help: a member of our team will "
                                 "take over this conversation. They will reply here.")
    fixed = Offer("RL-1", "fixed_discount", 7.5, "USD", "terms", None)
    assert "here is 7.50 USD off your next order with code RL-1 (terms)." in describe(fixed)


@pytest.mark.parametrize("code,value,date_words,frame", [
    ("es", "12,5 % de descuento", "5 de diciembre de 2026", "con el código RL-7KQ2"),
    ("de", "12,5 % Rabatt", "5. Dezember 2026", "mit dem Code RL-7KQ2"),
    ("fr", "12,5 % de réduction", "5 décembre 2026", "avec le code RL-7KQ2"),
])
def test_offers_are_worded_in_the_shoppers_language(code, value, date_words, frame):
    words = describe(DISCOUNT, code)
    assert value in words and date_words in words and frame in words
    assert "(one use on your next order)" in words  # the shop's terms, as recorded
    replacement = describe(REPLACEMENT, code)
    assert "RL-X9" in replacement and date_words in replacement and replacement != describe(REPLACEMENT)
    assert HANDOFF.terms in describe(HANDOFF, code) and describe(HANDOFF, code) != describe(HANDOFF)
