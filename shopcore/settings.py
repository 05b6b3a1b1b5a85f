"""The one settings object of the service, read once from CHATBOT_* variables and `.env`.

Every field has a working laptop default, so `make run` needs no configuration. A bad
value stops the process at start with a message that names the variable to fix.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, SecretStr, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopcore.profile import DEMO_PROFILE, ProfileError, ShopProfile, load_profile

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "qwen2.5-0.5b"  # shopcore/catalog.py: from PyPI wheels, offline
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEV_SECRET = "dev-only-change-me-dev-only-change-me"  # 32+ bytes, as HS256 wants
MIN_SECRET_BYTES = 32  # HS256 keys at least as long as the hash (RFC 7518, 3.2)
MIN_SECRET_DISTINCT_CHARS = 10  # 'aaaa…' or '12121212…' are long but guessable
# Fields whose values never appear in an error message; a database URL shows without its password.
SECRET_FIELDS = ("secret_key", "openai_api_key", "backend_api_key",
                 "notify_webhook_secret", "smtp_password", "notify_webhook_url")  # a URL may carry credentials


class SettingsError(Exception):
    """A CHATBOT_* variable has a value the service cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHATBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "production"] = Field(
        "dev", description="production refuses the development secret"
    )
    home: Path = Field(
        REPO_ROOT / "var", description="where the model cache and each shop's database, index and adapters live "
        "(CHATBOT_HOME/shops/<shop>)"
    )
    shop: Path = Field(
        DEMO_PROFILE, description="the shop profile (YAML): name, tone, languages, hours, documents, store, "
        "examples, policies (docs/your-shop.md); the demo shop's by default"
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means a SQLite file in the shop's folder under CHATBOT_HOME"
    )
    database_timeout_s: float = Field(
        2.0, gt=0, le=60, description="the served desk gives up on an unreachable or hung PostgreSQL after this "
        "long (connect, pool wait, a pooled connection's ping, network writes; statements get ten times as long) "
        "and answers 503"
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="causal LM: a catalog name (`python -m chatbot models list`), a local folder, or a hub id",
    )
    model_cache_dir: Path | None = Field(
        None, description="converted model weights; default CHATBOT_HOME/models"
    )
    adapter: str = Field(
        "", description="LoRA adapter directory or registry name; empty: newest good one, 'none': base model"
    )
    adapter_dir: Path | None = Field(None, description="adapter registry; default the shop's folder/adapters")
    shipped_adapters: Path | None = Field(
        None,
        description="ready-made adapters that setup copies into the registry when they fit CHATBOT_MODEL; "
        "default: the profile's `adapters` (the demo shop ships one, so a fresh install answers well before any "
        "training); empty: none",
    )
    translation_model: str = Field(
        "qwen2.5-1.5b",
        description="causal LM that translates questions and answers in the shop's other languages (a catalog "
        "name, local folder or hub id, loaded beside the served model when the shop answers in more than one "
        "language); empty: the served model without its adapter",
    )
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="sentence-transformers model")
    index_dir: Path | None = Field(None, description="knowledge index; default the shop's folder/index")
    docs_dirs: list[Path] | None = Field(
        None, description="folders of shop documents indexed by `knowledge build`; default: the profile's `documents`"
    )
    store_dir: Path | None = Field(
        None, description="the shop's products, customers and orders loaded on setup; default: the profile's `store`"
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto uses CUDA when present")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="auto: bfloat16 on CUDA and on CPUs with native bf16, else float32"
    )
    generator: Literal["local", "openai"] = Field(
        "local",
        description="local: this process runs CHATBOT_MODEL; openai: an OpenAI-compatible server (vLLM, llama.cpp)",
    )
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="the server's /v1 URL when CHATBOT_GENERATOR=openai"
    )
    openai_model: str = Field(
        "", description="model name to ask the server for; empty: the registry's adapter if the server lists it "
        "(vLLM --lora-modules), else CHATBOT_MODEL"
    )
    openai_api_key: SecretStr = Field(SecretStr(""), description="bearer token for the server, if it wants one")
    threads: int = Field(
        0, ge=0, le=256, description="CPU threads for the generation worker, indexing and training; 0: all cores"
    )
    quantize: Literal["auto", "none", "int8-weights", "int8"] = Field(
        "auto", description="auto: int8-weights on a CPU running bf16, else none; int8-weights: int8 Linear "
        "weights, activations unquantized; int8: dynamic int8 (weights and activations). CPU only"
    )
    max_batch: int = Field(8, ge=1, le=256, description="answers generated together in one batch")
    max_queue: int = Field(
        56, ge=0, le=10_000,
        description="answers waiting for a batch slot; with max_batch, the turns in flight before a 503 (64 by default)",
    )
    repetition_penalty: float = Field(
        1.15, ge=1.0, le=2.0,
        description="penalty on words the answer already used (1: none; digits and punctuation exempt); stops loops",
    )
    guardrail_retries: int = Field(
        1, ge=0, le=3, description="regenerations after an invented fact, before a reply quoted from the evidence"
    )
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET), description="HMAC secret shared with the shop's backend for shopper tokens"
    )
    backend_api_key: SecretStr = Field(
        SecretStr(""), description="bearer key the shop's backend uses to export or delete a customer's data "
        "(/v1/customers/{id}/data); empty: those endpoints are off"
    )
    retention_days: int = Field(
        0, ge=0, le=36500, description="delete conversations whose last message is older than this many days "
        "(checked at start and hourly); 0 keeps them"
    )
    shop_name: str = Field("", description="the shop the assistant speaks for; default: the profile's `name`")
    shop_tone: str = Field("", description="how the assistant should sound; default: the profile's `tone`")
    exact_index_max_chunks: int = Field(
        50_000, ge=0,
        description="chunks up to which the index searches exactly; above it, an IVF index "
        "tuned at build time to recall@10 >= 0.95 against exact search",
    )
    top_k: int = Field(4, ge=1, le=20, description="evidence passages per answer")
    focus_sentences: int = Field(
        6, ge=0, le=100,
        description="sentences of the evidence shown to the model, best first (knowledge/focus.py); "
        "0 shows whole passages",
    )
    coverage_threshold: float = Field(
        0.5, ge=0.0, le=1.0,
        description="evidence relevance below which the desk hands off instead of answering "
        "(knowledge/retrieval.py); default: the shop's calibrated threshold, which setup fits on questions made "
        "from its documents (knowledge/calibration.py), else 0.5",
    )
    max_new_tokens: int = Field(160, ge=8, le=4096, description="upper bound on answer length")
    prompt_token_budget: int = Field(
        1536, ge=256, description="tokens for system rules, evidence and history together"
    )
    history_turns: int = Field(6, ge=0, le=50, description="earlier messages kept in the prompt")
    shop_languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = Field(
        [], description="languages the desk answers in (ISO 639-1 codes, JSON list); the first is the language "
        "of the shop's documents. A shopper writing in another language is answered in the first, with a note. "
        "Default: the profile's `languages`",
    )
    query_rewrite: Literal["rules", "model"] = Field(
        "rules",
        description="how a follow-up becomes a standalone question for retrieval: `rules` joins it to the "
        "question it follows, `model` asks the language model to rewrite it (one more short generation)",
    )
    max_message_chars: int = Field(
        4000, ge=1, le=100_000, description="longest shopper message accepted"
    )
    pii_mask_emails: bool = Field(
        True, description="mask e-mail addresses in shopper messages before they are stored or shown to a model"
    )
    pii_patterns: dict[str, str] = Field(
        {}, description="more personal data to mask before storage: JSON object of label -> regular expression "
        "(card numbers and security codes are always masked)"
    )
    risk_cues: Path | None = Field(
        None, description="churn-risk cue phrases, competitors and signal weights (YAML); default: the profile's",
    )
    risk_data: Path = Field(
        REPO_ROOT / "evals" / "data" / "risk" / "messages.jsonl",
        description="labeled shopper messages the churn-risk model trains on (JSONL, `train` split)",
    )
    offer_policy: Path | None = Field(
        None, description="retention offer rules, caps, budget and expiry (YAML); default: the profile's",
    )
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    # Who may call the HTTP API and how often (chatbot/access.py).
    widget_keys: dict[str, list[str]] = Field(
        {"pk_demo": ["http://127.0.0.1:7860", "http://localhost:7860"]},
        description="publishable widget key -> page origins allowed to use it (JSON object)",
    )
    rate_limit_per_address: str = Field(
        "30/minute", description="chat requests per client address, in `limits` notation"
    )
    rate_limit_per_key: str = Field(
        "600/minute", description="chat requests per publishable widget key, in `limits` notation"
    )
    trusted_proxies: str = Field(
        "", description="reverse proxies (comma-separated addresses or networks, e.g. 10.0.0.0/8) whose "
        "X-Forwarded-For names the shopper's address for rate limits; empty: the connecting address"
    )
    rate_limit_storage: str = Field(
        "memory://", description="`limits` storage URI; redis://host shares counters across processes"
    )
    login_rate_limit: str = Field(
        "10/minute;50/hour", description="agent console login attempts per client address and per agent name"
    )
    max_request_bytes: int = Field(
        65_536, ge=1024, description="largest request body accepted by the API and the console"
    )
    interrupted_turn_s: float = Field(
        0, ge=0, description="at start, shopper turns still waiting for an answer for longer than this are "
        "closed with an 'interrupted' error record; with several server processes on one database, set it "
        "above the longest turn so one process's start does not close another's turns"
    )
    max_concurrent_chats: int = Field(
        64, ge=1, description="chat turns run at once; more wait their turn (threads, not the model)"
    )
    customer_token_ttl_s: int = Field(
        3600, ge=1, description="lifetime of shopper tokens minted by `python -m chatbot mint-token`"
    )
    customer_token_max_ttl_s: int = Field(
        7 * 86400, ge=60, description="shopper tokens that expire further ahead than this are refused"
    )
    agent_session_minutes: int = Field(
        480, ge=1, description="an agent console login expires after this long"
    )
    example_questions: list[str] | None = Field(
        None, description="example questions shown on the chat page (JSON list); default: the profile's `examples`"
    )
    demo_sign_in: bool | None = Field(
        None, description="offer 'sign in as a demo customer' on the chat page; default: on in dev"
    )

    # --- Notifications of new hand-offs (chatbot/notify.py): a signed webhook, an e-mail ---
    public_url: str = Field(
        "", pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$",
        description="the desk's address as agents open it (https://desk.shop.example), for links in hand-off "
        "notices; empty: the notices give the console path alone",
    )
    notify_webhook_url: str = Field(
        "", description="POST a signed JSON notice of each new hand-off to this http(s) URL; empty: no webhook"
    )
    notify_webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key of the webhook's X-Desk-Signature header (how a receiver "
        f"checks it: chatbot/notify.py); required with a webhook URL, at least {MIN_SECRET_BYTES} random bytes"
    )
    notify_email_to: str = Field(
        "", description="e-mail each new hand-off to these addresses (comma-separated); empty: no e-mail"
    )
    smtp_host: str = Field("localhost", description="SMTP server for hand-off e-mails")
    smtp_port: int = Field(25, ge=1, le=65535, description="its port (587 with STARTTLS, usually)")
    smtp_username: str = Field("", description="SMTP login; empty: send without one")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password")
    smtp_from: str = Field("shopdesk@localhost", description="the From address of hand-off e-mails")
    smtp_starttls: bool = Field(
        False, description="upgrade the SMTP connection with STARTTLS (certificate checked) before logging in; "
        "sending fails rather than go on in clear text when the server does not offer it"
    )
    notify_max_attempts: int = Field(
        6, ge=1, le=20, description="tries per notification before it is recorded as failed"
    )
    notify_backoff_s: float = Field(
        30.0, gt=0, le=86_400, description="wait before the first retry; each next wait doubles (30 s: retries "
        "after 30 s, 1.5, 3.5, 7.5 and 15.5 minutes)"
    )
    notify_timeout_s: float = Field(10.0, gt=0, le=300, description="one webhook call or SMTP session gives up after this")
    notify_poll_s: float = Field(
        2.0, gt=0, le=3600, description="how often each server process looks for new hand-offs and due retries"
    )

    @model_validator(mode="after")
    def _check_notify(self) -> Settings:
        from email.utils import getaddresses
        from urllib.parse import urlsplit

        if self.notify_webhook_url:
            parts = urlsplit(self.notify_webhook_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("CHATBOT_NOTIFY_WEBHOOK_URL must be an http:// or https:// URL")
            if _weak(self.notify_webhook_secret.get_secret_value()):
                raise ValueError("CHATBOT_NOTIFY_WEBHOOK_SECRET is missing or too weak: use at least "
                                 f"{MIN_SECRET_BYTES} random bytes")
        if self.notify_email_to:
            addresses = getaddresses([self.notify_email_to])
            if not addresses or any("@" not in address for _, address in addresses):
                raise ValueError("CHATBOT_NOTIFY_EMAIL_TO must be e-mail addresses, comma-separated")
        local = self.smtp_host in ("localhost", "127.0.0.1", "::1")
        if self.smtp_password.get_secret_value() and not (self.smtp_starttls or local):
            raise ValueError("CHATBOT_SMTP_PASSWORD would cross the network in clear text: "
                             "set CHATBOT_SMTP_STARTTLS=true")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and not url.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return url

    @field_validator("shipped_adapters", mode="before")
    @classmethod
    def _none_when_empty(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pii_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: dict[str, str]) -> dict[str, str]:
        import re

        for label, regex in patterns.items():
            if not re.fullmatch(r"[a-z][a-z0-9 _-]{0,30}", label):
                raise ValueError(f"label {label!r} must be 1-31 lowercase letters, digits, spaces, _ or -")
            try:
                if re.compile(regex).match(""):
                    raise ValueError(f"the pattern for {label!r} matches the empty string")
            except re.error as exc:
                raise ValueError(f"the pattern for {label!r} is not a regular expression: {exc}") from None
        return patterns

    @field_validator("rate_limit_per_address", "rate_limit_per_key", "login_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must look like '30/minute' or '5/second;100/hour'") from None
        return value

    _profile: ShopProfile = PrivateAttr()

    @property
    def profile(self) -> ShopProfile:
        """The shop profile the settings were filled from (CHATBOT_SHOP)."""
        return self._profile

    @property
    def shop_dir(self) -> Path:
        """The shop's own data folder: its SQLite database, index, adapters and fine-tuning data."""
        return self.home / "shops" / self._profile.slug

    @property
    def calibration_file(self) -> Path:
        """The shop's calibrated hand-off threshold, written by setup."""
        return self.shop_dir / "calibration.json"

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        try:
            self._profile = load_profile(self.shop)
        except ProfileError as exc:
            raise ValueError(str(exc)) from None
        self._fill_from_profile("shipped_adapters" in self.model_fields_set)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.shop_dir / 'chatbot.db'}"
        self.model_cache_dir = self.model_cache_dir or self.home / "models"
        self.adapter_dir = self.adapter_dir or self.shop_dir / "adapters"
        self.index_dir = self.index_dir or self.shop_dir / "index"
        if "coverage_threshold" not in self.model_fields_set:
            self.coverage_threshold = _calibrated(self.calibration_file, self.coverage_threshold)
        if self.customer_token_ttl_s > self.customer_token_max_ttl_s:
            raise ValueError("CHATBOT_CUSTOMER_TOKEN_TTL_S is longer than CHATBOT_CUSTOMER_TOKEN_MAX_TTL_S: "
                             "the desk would refuse the tokens it mints")
        if self.env == "production":
            _check_production_secret(self.secret_key.get_secret_value())
        if self.backend_api_key.get_secret_value() and _weak(self.backend_api_key.get_secret_value()):
            raise ValueError(f"CHATBOT_BACKEND_API_KEY is too weak: use at least {MIN_SECRET_BYTES} random bytes")
        if self.demo_sign_in is None:
            self.demo_sign_in = self.env == "dev"
        return self


    def _fill_from_profile(self, adapters_set: bool) -> None:
        """Whatever describes the shop and is not set by a CHATBOT_ variable comes from its profile."""
        profile = self._profile
        self.shop_name = self.shop_name or profile.name
        self.shop_tone = self.shop_tone or profile.tone
        self.shop_languages = self.shop_languages or list(profile.languages)
        self.docs_dirs = self.docs_dirs if self.docs_dirs is not None else profile.document_dirs
        self.store_dir = self.store_dir or profile.resolve(profile.store)
        self.example_questions = self.example_questions if self.example_questions is not None else list(profile.examples)
        self.offer_policy = self.offer_policy or profile.resolve(profile.offer_policy)
        self.risk_cues = self.risk_cues or profile.resolve(profile.risk_cues)
        if not adapters_set:
            self.shipped_adapters = profile.adapter_source


def _calibrated(path: Path, default: float) -> float:
    import json

    try:
        threshold = float(json.loads(path.read_text(encoding="utf-8"))["threshold"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return default
    return threshold if 0.0 <= threshold <= 1.0 else default


def _check_production_secret(secret: str) -> None:
    """Refuse a secret that lets anyone forge shopper tokens or console cookies."""
    if secret == DEV_SECRET:
        raise ValueError("CHATBOT_SECRET_KEY must be set to a real secret in production")
    if _weak(secret):
        raise ValueError(
            f"CHATBOT_SECRET_KEY is too weak for production: use at least {MIN_SECRET_BYTES} random bytes, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def _weak(secret: str) -> bool:
    return len(secret.encode()) < MIN_SECRET_BYTES or len(set(secret)) < MIN_SECRET_DISTINCT_CHARS


def _shown(field: str, value) -> str:
    """A rejected value as an error message may show it: never a secret or a password."""
    if field in SECRET_FIELDS:
        return "(hidden)"
    if field == "database_url" and isinstance(value, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return repr(make_url(value).render_as_string(hide_password=True))
        except ArgumentError:
            return "(not a URL)"
    return repr(value)


def load_settings(**overrides) -> Settings:
    """Read settings from the environment, turning validation errors into one clear message.

    The message names each variable to fix and what it got, except for secrets; a problem
    with the settings as a whole shows no values (they would include the secrets).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_context=False, include_url=False):
            field = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if field:
                got = _shown(field, error.get("input"))
                problems.append(f"CHATBOT_{field.upper()}: {message} (got {got})")
            else:
                problems.append(message)
        raise SettingsError("invalid configuration\n  " + "\n  ".join(problems)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def cli_settings() -> Settings:
    """The settings for a command line: a bad value prints what to fix and exits with status 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
