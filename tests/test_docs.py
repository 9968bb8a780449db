"""README is the front door and docs/ holds the rest: every relative link in them resolves
(the file, and its ``#anchor`` as GitHub renders headings), README stays within 250 lines,
and the verdict matrix starts within its first 80."""
import re
from pathlib import Path

import pytest

from bench.publish import matrix

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict = {}
    out = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def dead_links(path: Path) -> list[str]:
    """Each relative link of ``path`` whose file or anchor does not exist."""
    dead = []
    for target in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue   # http:, https:, mailto: are not checked here
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            dead.append(f"{target} (no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest})")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            dead.append(f"{target} (no heading or anchor #{anchor} in {dest.name})")
    return dead


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert page.is_file()
    assert not dead_links(page), dead_links(page)


def test_a_dead_file_or_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# A page: with `code`, and more\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-page-with-code-and-more) [ok](other.md#twice-1) [ok](#here) [web](https://x.org/y)\n"
                    "# Here\n[gone](missing.md) [bad anchor](other.md#nowhere)\n```\n[in code](ignored.md)\n```\n",
                    encoding="utf-8")
    found = dead_links(page)
    assert len(found) == 2 and found[0].startswith("missing.md") and found[1].startswith("other.md#nowhere")


def test_the_readme_is_short_and_opens_with_the_verdict_matrix():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to docs/."
    start = lines.index(matrix.BEGIN) + 1
    assert start <= 80, f"the verdict matrix starts at line {start}; it belongs in README's first 80 lines."


def test_the_readme_shows_the_test_command_ci_runs():
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
