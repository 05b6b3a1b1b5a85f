"""The lexicon side of risk scoring: the shop's cue file (chatbot/risk/cues.yaml) and VADER.

`Lexicon.reasons(text)` names the cue groups a message hits (the reasons agents see and the
offer policy matches); `Lexicon.features(texts)` turns messages into the numbers the risk
model learns from: VADER's polarity scores, one column per cue group, shouting and
punctuation.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CUES = Path(__file__).resolve().parent / "cues.yaml"
SHOUTING = "anger:shouting"
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")


class CuesError(Exception):
    """The cue file is missing, not YAML, or does not follow the expected shape."""


class CueGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        pattern=r"^[a-z_]+(:[a-z_]+)?$", description="reason code, e.g. churn:leaving"
    )
    patterns: list[str] = Field(default_factory=list, description="case-insensitive regexes")


class Signals(BaseModel):
    """Weights of the conversation-level evidence; see the comments in cues.yaml."""

    model_config = ConfigDict(extra="forbid")
    decay: float = Field(ge=0, le=1)
    repeated_question: float = Field(ge=0, le=1)
    repeat_similarity: float = Field(ge=0, le=1)
    bot_unanswered: float = Field(ge=0, le=1)
    order_failure: float = Field(ge=0, le=1)
    high_value: float = Field(ge=0, le=1)
    high_value_spend: float = Field(ge=0)
    high_value_orders: int = Field(ge=1)
    high_value_tenure_days: int = Field(ge=0)
    late_after_days: int = Field(ge=0)
    lost_note_patterns: list[str]
    unanswered_guardrails: list[str]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    medium: float = Field(gt=0, lt=1)
    high: float = Field(gt=0, lt=1)

    def level(self, score: float) -> str:
        return "high" if score >= self.high else "medium" if score >= self.medium else "low"


class Levels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_high: float = Field(gt=0, lt=1)
    conversation: Thresholds


class Cues(BaseModel):
    """The whole cue file, validated."""

    model_config = ConfigDict(extra="forbid")
    competitors: list[str]
    acronyms: list[str] = Field(default_factory=list)
    groups: list[CueGroup]
    signals: Signals
    levels: Levels

    @field_validator("groups")
    @classmethod
    def _unique_reasons(cls, groups: list[CueGroup]) -> list[CueGroup]:
        reasons = [g.reason for g in groups]
        duplicated = sorted({r for r in reasons if reasons.count(r) > 1})
        if duplicated:
            raise ValueError(f"each reason may appear once; repeated: {', '.join(duplicated)}")
        return groups


class Lexicon:
    """Compiled cue groups plus VADER, loaded from a cue file."""

    def __init__(self, cues: Cues, source: str = ""):
        self.cues = cues
        self.fingerprint = hashlib.sha256(source.encode()).hexdigest()[:12]
        names = "|".join(re.escape(name) for name in cues.competitors) or r"(?!x)x"
        self._compiled: list[tuple[str, list[re.Pattern]]] = []
        for group in cues.groups:
            compiled = []
            for pattern in group.patterns:
                try:
                    compiled.append(
                        re.compile(pattern.replace("{competitor}", f"(?:{names})"), re.IGNORECASE)
                    )
                except re.error as exc:
                    raise CuesError(
                        f"cue {group.reason!r}: bad pattern {pattern!r}: {exc}"
                    ) from None
            self._compiled.append((group.reason, compiled))
        self._acronyms = {a.upper() for a in cues.acronyms}

    @classmethod
    def load(cls, path: Path = DEFAULT_CUES) -> Lexicon:
        """Read and validate a cue file, failing with a message that names the problem."""
        try:
            source = Path(path).read_text(encoding="utf-8")
            cues = Cues.model_validate(yaml.safe_load(source))
        except OSError as exc:
            raise CuesError(f"cannot read the risk cue file {path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise CuesError(f"the risk cue file {path} is not valid YAML: {exc}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
            )
            raise CuesError(f"the risk cue file {path} is invalid: {problems}") from None
        return cls(cues, source)

    @cached_property
    def _vader(self):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    @property
    def reason_codes(self) -> list[str]:
        return [reason for reason, _ in self._compiled]

    def shouting(self, text: str) -> bool:
        """Two or more all-caps words that are not known names (UPS, REI...)."""
        words = [w for w in _CAPS_WORD.findall(text) if w not in self._acronyms]
        return len(words) >= 2

    def reasons(self, text: str) -> tuple[str, ...]:
        """The reason codes whose cues occur in text, in cue-file order."""
        found = [
            reason for reason, patterns in self._compiled if any(p.search(text) for p in patterns)
        ]
        if self.shouting(text) and SHOUTING not in found:
            found.append(SHOUTING)
        return tuple(found)

    def features(self, texts: list[str]) -> np.ndarray:
        """(len(texts), n) lexicon features: VADER scores, cue groups, shouting, punctuation."""
        codes = self.reason_codes
        if SHOUTING not in codes:
            codes = codes + [SHOUTING]
        rows = []
        for text in texts:
            vader = self._vader.polarity_scores(text)
            hit = set(self.reasons(text))
            rows.append(
                [vader["neg"], vader["neu"], vader["pos"], vader["compound"]]
                + [1.0 if code in hit else 0.0 for code in codes]
                + [
                    min(text.count("!"), 3) / 3,
                    min(text.count("?"), 3) / 3,
                    min(len(text.split()), 60) / 60,
                ]
            )
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 4 + len(codes) + 3)
