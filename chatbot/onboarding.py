"""A new shop, from nothing to answering: `init-shop` writes a starter, `check-shop` says what
is missing or unreadable before anything is served.

    python -m chatbot init-shop DIR [--name "Paper Lantern Books"]
    CHATBOT_SHOP=DIR/shop.yaml python -m chatbot check-shop
    CHATBOT_SHOP=DIR/shop.yaml make run

The starter (knowledge/starter) holds a profile, three short policy documents and a small
store in the CSV import format (docs/shop-data.md), all about a generic shop: the shop
replaces them with its own. Nothing of the demo shop is copied.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from shopcore.settings import REPO_ROOT, Settings

STARTER = REPO_ROOT / "knowledge" / "starter"
DEFAULT_POLICY = REPO_ROOT / "chatbot" / "offers" / "policy.yaml"

PROFILE = """\
# The shop profile (docs/your-shop.md): serve this shop with CHATBOT_SHOP={path}
name: {name}
tone: friendly, clear and helpful
# description: one sentence about what the shop sells and where
greeting: Hi! I'm the {name} assistant. Ask me about orders, delivery, returns or products.
languages: [en]            # ISO codes; the first is the language of the documents
hours:                     # when people answer hand-offs; days not listed are closed
  timezone: Europe/London
  mon-fri: "09:00-17:00"
documents: [docs]          # folders of .md .txt .html .pdf .json .jsonl .csv files
store: store               # products, variants, customers, orders (CSV or JSON, docs/shop-data.md)
# sync:                    # or a scheduled import from the shop's own database
#   url: postgresql+psycopg://reader@db.internal/shop
#   every_minutes: 15
#   products: SELECT sku, name, category, price, description FROM products
examples:                  # shown on the chat page
  - How long does delivery take?
  - Can I return an item?
  - Where is my order?
# questions: questions.jsonl   # labelled questions with key facts, for evals and fine-tuning
offer_policy: offers.yaml  # retention offers: codes, caps and budget
# risk_cues: cues.yaml     # churn-risk phrases (default: the desk's own list)
# The desk's ready-made answering adapter until the shop trains its own (python -m finetune
# train): trained on the demo shop's documents, it carries the skill of quoting and citing,
# not their facts (docs/your-shop.md). Remove the line to serve the base model alone.
adapters: shipped
"""


class ShopExists(Exception):
    """init-shop would overwrite a shop's files."""


def init_shop(folder: Path, name: str | None = None) -> Path:
    """Write a starter shop into folder (which must be empty or new); return its profile."""
    folder = folder.expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise ShopExists(f"{folder} is not empty: init-shop writes only into a new or empty folder")
    name = name or folder.name.replace("-", " ").replace("_", " ").title()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STARTER / "docs", folder / "docs")
    shutil.copytree(STARTER / "store", folder / "store")
    profile = folder / "shop.yaml"
    profile.write_text(PROFILE.format(name=_yaml_text(name), path=profile), encoding="utf-8")
    (folder / "offers.yaml").write_text(_offer_policy(name), encoding="utf-8")
    return profile


def _yaml_text(text: str) -> str:
    return yaml.safe_dump(text, default_style=None, allow_unicode=True).removesuffix("\n...\n").strip()


def _offer_policy(name: str) -> str:
    """The desk's offer policy with this shop's code prefix (its initials), not the demo's."""
    initials = "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()[:4] or "SHOP"
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    return re.sub(r"(?m)^code_prefix: .*$", f"code_prefix: {initials}-", text)


@dataclass(frozen=True)
class Finding:
    level: str  # "ok", "warning" or "error"
    part: str
    message: str

    def line(self) -> str:
        mark = {"ok": "ok  ", "warning": "warn", "error": "FAIL"}[self.level]
        return f"[{mark}] {self.part}: {self.message}"


def check_shop(settings: Settings) -> list[Finding]:
    """What is missing or unreadable in the shop's profile, documents, store, policies, index
    and model, before anything is served. Reads only; changes nothing."""
    profile = settings.profile
    found = [Finding("ok", "profile", f"{profile.name} from {profile.path} (data in {settings.shop_dir})")]
    if profile.is_demo:
        found.append(Finding("warning", "profile", "this is the demo shop's profile: set CHATBOT_SHOP to your own"))
    found += _check_languages(settings) + _check_documents(settings) + _check_store(settings)
    found += _check_policies(settings) + _check_served(settings)
    if not settings.example_questions:
        found.append(Finding("warning", "examples", "no example questions: the chat page shows none"))
    if profile.hours is None:
        found.append(Finding("warning", "hours", "no business hours: shoppers are told a person is always around"))
    return found


def _check_languages(settings: Settings) -> list[Finding]:
    from chatbot.messages import languages

    translated = languages()
    unknown = [code for code in settings.shop_languages if code not in translated]
    if unknown:
        return [Finding("warning", "languages", f"{', '.join(unknown)} have no translated desk messages "
                        f"(hand-off, errors, offers): those shoppers read them in English")]
    return [Finding("ok", "languages", ", ".join(settings.shop_languages))]


def _check_documents(settings: Settings) -> list[Finding]:
    from knowledge.documents import read_folder

    found, total = [], 0
    for folder in settings.docs_dirs:
        if not folder.is_dir():
            found.append(Finding("error", "documents", f"{folder} is not a folder"))
            continue
        documents, skipped = read_folder(folder)
        total += len(documents)
        for item in skipped:
            found.append(Finding("warning", "documents", f"{folder / item.path} is skipped: {item.reason}"))
        titles = sorted({d.title for d in documents})
        shown = ", ".join(titles[:6]) + (", …" if len(titles) > 6 else "")
        found.append(Finding("ok" if documents else "error", "documents",
                             f"{len(documents)} readable in {folder}" + (f" ({shown})" if documents else "")))
    if not settings.docs_dirs:
        found.append(Finding("error", "documents", "the profile names no document folder"))
    return found


def _check_store(settings: Settings) -> list[Finding]:
    import tempfile

    from knowledge.shop_data import ShopDataError, load_shop
    from shopcore.store.db import make_engine, migrate, session_factory

    found = []
    if settings.store_dir is None:
        found.append(Finding("warning", "store", "no store folder: no products to index, no orders to answer about"))
    else:
        # Checked by importing it into a scratch database: every row and reference, nothing served touched.
        with tempfile.TemporaryDirectory() as scratch:
            url = f"sqlite:///{Path(scratch) / 'check.db'}"
            migrate(url)
            engine = make_engine(url)
            try:
                result = load_shop(session_factory(engine), settings.store_dir, progress=False)
            except ShopDataError as exc:
                found.append(Finding("error", "store", str(exc)))
            else:
                found.append(Finding("ok", "store", f"{settings.store_dir}: " + ", ".join(
                    f"{result[kind]} {kind}" for kind in result) + " (every row and reference checked)"))
                found += [Finding("warning", "store", f"no {kind}: {why}") for kind, why in result.skipped.items()]
            finally:
                engine.dispose()
    if settings.profile.sync is not None:
        found.append(Finding("ok", "sync", f"from the shop's database every {settings.profile.sync.every_minutes:g} min"))
    return found


def _check_policies(settings: Settings) -> list[Finding]:
    from chatbot.offers.policy import PolicyError, load_policy
    from chatbot.risk.lexicon import CuesError, Lexicon

    found = []
    try:
        policy = load_policy(settings.offer_policy)
        found.append(Finding("ok", "offers", f"{len(policy.rules)} rules, codes {policy.code_prefix}… "
                             f"({settings.offer_policy})"))
    except PolicyError as exc:
        found.append(Finding("error", "offers", str(exc)))
    try:
        lexicon = Lexicon.load(settings.risk_cues)
        found.append(Finding("ok", "risk cues", f"{len(lexicon.cues.groups)} cue groups ({settings.risk_cues})"))
    except CuesError as exc:
        found.append(Finding("error", "risk cues", str(exc)))
    return found


def _check_served(settings: Settings) -> list[Finding]:
    """What setup prepares: the index, the calibrated hand-off threshold, the model."""
    from knowledge.calibration import Calibration
    from knowledge.index import Index, IndexNotBuilt
    from shopcore import catalog

    found = []
    try:
        index = Index.load(settings.index_dir)
        found.append(Finding("ok", "index", f"{len(index.chunks)} chunks in {settings.index_dir}"))
    except (IndexNotBuilt, ValueError, OSError):
        found.append(Finding("warning", "index", f"not built yet in {settings.index_dir}: "
                             "`python -m chatbot setup` (or make run) builds it"))
    calibration = Calibration.load(settings.calibration_file)
    if calibration is None:
        found.append(Finding("warning", "hand-off threshold",
                             f"not calibrated yet: {settings.coverage_threshold:.2f} (setup calibrates it)"))
    else:
        found += [Finding("ok", "hand-off threshold", line) for line in calibration.lines()]
    if catalog.find(settings.model) is not None:
        try:
            found.append(Finding("ok", "model", f"{settings.model} in {catalog.local_path(settings.model, settings.model_cache_dir)}"))
        except catalog.CatalogError:
            found.append(Finding("warning", "model", f"{settings.model} not pulled yet (setup pulls it)"))
    return found
