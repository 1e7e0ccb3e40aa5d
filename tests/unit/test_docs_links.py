"""Every relative link in README.md and docs/*.md points to a file that exists, and to a
heading of it when the link names one (GitHub's anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) or [text](target "title"); images too. Code is skipped (fences and spans).
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
EXTERNAL = ("http://", "https://", "mailto:")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def relative_links(markdown: str) -> list[str]:
    """The link targets of a Markdown text outside code, external links left out."""
    prose = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return [target for target in LINK.findall(prose) if not target.startswith(EXTERNAL)]


def test_relative_links_finds_links_outside_code() -> None:
    text = "[a](docs/x.md#part) [b](https://e.org) [c](#top)\n```\n[d](gone.md)\n```\n`[e](f.md)`"
    assert relative_links(text) == ["docs/x.md#part", "#top"]


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def test_anchors_follow_github() -> None:
    text = "# A case's audit bundle (export)\n## Tables\n## Tables\n```\n# not a heading\n```"
    assert anchors(text) == {"a-cases-audit-bundle-export", "tables", "tables-1"}


def _broken(document: Path, target: str) -> bool:
    path_part, _, anchor = target.partition("#")
    path = document.parent / path_part if path_part else document
    if not path.exists():
        return True
    return bool(anchor) and path.suffix == ".md" and anchor not in anchors(path.read_text("utf-8"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_relative_links_point_to_existing_files(document: Path) -> None:
    broken = [
        target
        for target in relative_links(document.read_text(encoding="utf-8"))
        if _broken(document, target)
    ]
    assert broken == [], f"{document.relative_to(ROOT)}: broken links {broken}"
