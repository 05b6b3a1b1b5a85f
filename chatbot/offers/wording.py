"""The words a shopper reads about an offer, built only from the stored record: the code,
value, expiry and terms are copied from it, never written by the language model."""

from __future__ import annotations

from datetime import datetime

from shopcore.schemas import Offer

WHAT = {
    "percent_discount": "{value:g}% off your next order",
    "fixed_discount": "{value:.2f} {unit} off your next order",
    "free_shipping": "free shipping on your next order",
    "loyalty_points": "{value:g} loyalty points",
}


def describe(offer: Offer) -> str:
    """One or two sentences that state the offer exactly as recorded."""
    if offer.kind == "handoff":
        return f"I've asked a person from our team to help: {offer.terms}. They will reply here."
    valid = ""
    if offer.expires_at:
        until = datetime.fromisoformat(offer.expires_at)
        valid = f", valid until {until:%B} {until.day}, {until.year}"
    if offer.kind == "express_replacement":
        return (
            "I'm sorry your order let you down. We'll send a replacement by express shipping "
            f"at no charge: your reference is {offer.code}{valid} ({offer.terms})."
        )
    what = WHAT[offer.kind].format(value=offer.value, unit=offer.unit)
    return (
        f"I'm sorry about the trouble. As a thank-you for sticking with us, here is {what} "
        f"with code {offer.code}{valid} ({offer.terms})."
    )
