"""The few errors a shopper's turn can end in, each with the HTTP status the API maps it to.

They are raised where the problem is found and translated only at the edges (CLI, API).
"""


class DeskError(Exception):
    status = 400


class InvalidMessage(DeskError):
    """Empty, too long, or otherwise not a message we can answer."""

    status = 422


class UnknownCustomer(DeskError):
    """The signed-in customer id is not in the store."""

    status = 404


class ConversationNotFound(DeskError):
    """No such conversation for this shopper (also when it belongs to someone else)."""

    status = 404


class Busy(DeskError):
    """Too many shoppers are waiting for the model; try again shortly."""

    status = 503


class OfferNotFound(DeskError):
    """No such offer code for this customer (also when it belongs to someone else)."""

    status = 404


class OfferUnavailable(DeskError):
    """The offer exists but cannot move to the asked state (expired, declined, already used)."""

    status = 409
