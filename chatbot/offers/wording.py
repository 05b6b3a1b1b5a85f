"""The words a shopper reads about an offer, built only from the stored record: the code,
value, expiry and terms are copied from it, never written by the language model.

The sentences around them are the desk's own, in the shopper's language (the `offer_*`
texts of chatbot/messages.yaml); the terms stay as the shop's policy file words them.
"""

from __future__ import annotations

from datetime import datetime

from chatbot.messages import long_date, number, say
from shopcore.schemas import Offer

# How each kind's value is written: 15% and 500 points whole, 7.50 USD with cents.
VALUE_FORMAT = {"percent_discount": "g", "fixed_discount": ".2f", "loyalty_points": "g"}


def describe(offer: Offer, language: str = "en") -> str:
    """One or two sentences, in language, that state the offer exactly as recorded."""
    if offer.kind == "handoff":
        return say("offer_handoff", language, terms=offer.terms)
    valid = ""
    if offer.expires_at:
        until = datetime.fromisoformat(offer.expires_at)
        valid = say("offer_valid", language, date=long_date(until, language))
    if offer.kind == "express_replacement":
        return say("offer_replacement", language, code=offer.code, valid=valid, terms=offer.terms)
    value = number(offer.value, VALUE_FORMAT.get(offer.kind, "g"), language)
    what = say(f"offer_{offer.kind}", language, value=value, unit=offer.unit)
    return say("offer_discount", language, what=what, code=offer.code, valid=valid, terms=offer.terms)
