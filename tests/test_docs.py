"""The README and docs/ stay short, linked and true to the settings.

- README.md is at most 250 lines: what it is, how to run it, where to read more.
- Every relative link in README.md and docs/ names a file that exists in the repository,
  images included; no link leaves the repository (the only web addresses allowed anywhere
  are local ones and the reserved example domains, and those never as a link).
- docs/configuration.md lists every field of `shopcore.settings.Settings` as CHATBOT_<NAME>,
  and the docs name no CHATBOT_ variable that the settings do not have.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shopcore.settings import Settings

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MAX_README_LINES = 250
PAGES = [README, *sorted((REPO / "docs").rglob("*.md"))]

# Pages and images the README links to that other parts of issue 32 write. They are
# demanded like any other link: this list only makes sure a README edit cannot drop them.
REQUIRED_TARGETS = [
    "docs/your-shop.md",
    "docs/shop-data.md",
    "docs/configuration.md",
    "docs/screenshots/inbox-queue.png",
    "docs/screenshots/inbox-conversation.png",
    "docs/screenshots/analytics.png",
]

# Variables the docs may name that are not settings: read by the tests, not by the desk.
NOT_SETTINGS = {"CHATBOT_TEST_POSTGRES_URL"}

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"<(?:a|img|source)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
WEB_ADDRESS = re.compile(r"\b(?:https?|ftp)://[^\s)\"'<>`]+", re.IGNORECASE)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"}
EXAMPLE_DOMAINS = ("example", "example.com", "example.org", "example.net")  # RFC 2606
VARIABLE = re.compile(r"\bCHATBOT_[A-Z][A-Z0-9_]*\b")


def prose(text: str) -> str:
    """The text outside code blocks and inline code, where a link is a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(page: Path) -> list[str]:
    """Every link and image target the page renders, in order."""
    text = prose(page.read_text(encoding="utf-8"))
    return [m.group(1) for pattern in (MD_LINK, REF_LINK, HTML_LINK) for m in pattern.finditer(text)]


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_local(url: str) -> bool:
    return host(url) in LOCAL_HOSTS


def is_example(url: str) -> bool:
    name = host(url)
    return any(name == d or name.endswith("." + d) for d in EXAMPLE_DOMAINS)


def name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}): move details to docs/"
    )


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_relative_links_resolve_inside_the_repository(page):
    broken = []
    for target in links(page):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue  # web addresses: test_no_link_leaves_the_repository
        path = parts.path
        if not path:
            continue  # '#section' on the same page
        if path.startswith("/"):
            broken.append(f"{target} (absolute path: link relative to {name(page)})")
            continue
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(REPO):
            broken.append(f"{target} (outside the repository)")
        elif not resolved.exists():
            broken.append(f"{target} (no such file: {resolved.relative_to(REPO).as_posix()})")
    assert not broken, f"{name(page)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_no_link_leaves_the_repository(page):
    text = page.read_text(encoding="utf-8")
    outside = [t for t in links(page) if (urlsplit(t).scheme or urlsplit(t).netloc) and not is_local(t)]
    # Web addresses in code samples too: only this machine's, or a reserved example domain
    # standing for the shop's own site (e.g. https://desk.shop.example/widget.js).
    outside += [u for u in WEB_ADDRESS.findall(text) if not (is_local(u) or is_example(u))]
    assert not outside, f"{name(page)} points outside the repository: {sorted(set(outside))}"


def test_readme_links_the_pages_and_screenshots_it_promises():
    linked = {(README.parent / urlsplit(t).path).resolve() for t in links(README) if not urlsplit(t).scheme}
    missing = [t for t in REQUIRED_TARGETS if (REPO / t).resolve() not in linked]
    assert not missing, f"README.md no longer links {missing}"
    # The screenshots and the two shop pages are written by others; they must exist
    # (test_relative_links_resolve_inside_the_repository says which one is missing).


def test_configuration_reference_lists_every_setting():
    reference = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(VARIABLE.findall(reference))
    missing = [f"CHATBOT_{field.upper()}" for field in Settings.model_fields
               if f"CHATBOT_{field.upper()}" not in documented]
    assert not missing, f"docs/configuration.md does not describe {missing}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_docs_name_only_real_variables(page):
    known = {f"CHATBOT_{field.upper()}" for field in Settings.model_fields} | NOT_SETTINGS
    unknown = sorted(set(VARIABLE.findall(page.read_text(encoding="utf-8"))) - known)
    assert not unknown, f"{name(page)} names variables the settings do not have: {unknown}"
