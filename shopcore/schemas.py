"""Small values passed between the pipeline's steps and out to the CLI, API and UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ChatRequest:
    text: str
    conversation_id: str | None = None
    # Who the shopper is, established by the caller from a signed token (API) or the
    # operator's --customer flag (CLI); never from anything the shopper typed.
    customer_id: int | None = None
    channel: str = "api"


@dataclass(frozen=True)
class Source:
    """One evidence block of the prompt. A reply lists them all in evidence order, so the
    answer's [n] is sources[n-1]; `cited` marks the ones the answer actually cites."""

    doc_id: str
    title: str
    score: float
    n: int = 0  # the evidence number, [n] in the answer
    cited: bool = False


@dataclass(frozen=True)
class Evidence:
    """One numbered block of a prompt: a chunk of a shop document or one of the shopper's orders."""

    doc_id: str
    title: str
    text: str
    score: float  # retrieval similarity; 1.0 for the shopper's own orders


@dataclass(frozen=True)
class Risk:
    score: float  # 0..1
    level: str  # low | medium | high
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Offer:
    """A retention offer as recorded in the store; the reply's wording comes from this."""

    code: str | None
    kind: str
    value: float
    unit: str
    terms: str
    expires_at: str | None
    state: str = "offered"


@dataclass(frozen=True)
class Reply:
    answer: str
    sources: list[Source]
    risk: Risk | None
    offer: Offer | None
    conversation_id: str
    latency_ms: float
    message_id: int | None = None
    state: str = "ok"  # ok | error | cancelled | agent (a person has taken over)
    # What the answer guardrails did, if anything: {"action": "handoff" | "regenerated" |
    # "fallback", ...}; the same record is stored on the message.
    guardrail: dict | None = None

    def to_json(self) -> dict:
        """The `--json` / API body of shared/DESIGN.md."""
        return {
            "answer": self.answer,
            "sources": [asdict(s) for s in self.sources],
            "risk": None if self.risk is None else {**asdict(self.risk), "reasons": list(self.risk.reasons)},
            "offer": None if self.offer is None else asdict(self.offer),
            "conversation_id": self.conversation_id,
            "latency_ms": round(self.latency_ms, 1),
            "message_id": self.message_id,
            "state": self.state,
            "guardrail": self.guardrail,
        }


# Streaming events, in the order a turn produces them: sources and risk as soon as they are
# known, then tokens, then the offer (if any), then done with the whole reply.
@dataclass(frozen=True)
class SourcesEvent:
    sources: list[Source]


@dataclass(frozen=True)
class RiskEvent:
    risk: Risk


@dataclass(frozen=True)
class TokenEvent:
    text: str
    # True when the answer shown so far is withdrawn (a guardrail stopped it) and this text
    # starts the replacement; the final text is always DoneEvent.reply.answer.
    replace: bool = False


@dataclass(frozen=True)
class OfferEvent:
    offer: Offer


@dataclass(frozen=True)
class DoneEvent:
    reply: Reply


Event = SourcesEvent | RiskEvent | TokenEvent | OfferEvent | DoneEvent

