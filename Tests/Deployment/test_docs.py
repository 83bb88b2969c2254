"""The README is a front door and docs/ holds the reference: every relative link in them resolves,
anchors included (GitHub's heading slugs), and every "architecture §n" the code cites exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading):
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_stays_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 160, len(lines)
    text = "\n".join(lines)
    for command in ("scripts/dev.sh", "scripts/test.sh"):
        assert command in text
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in text, f"the README does not link docs/{page.name}"


def test_every_architecture_section_the_code_cites_exists():
    sections = set(re.findall(r"^## (\d+)\.", (ROOT / "docs/architecture.md").read_text(), re.M))
    cited = set()
    for source in [*(ROOT / "Sources").rglob("*.swift"), *(ROOT / "Tests").rglob("*.swift")]:
        cited |= set(re.findall(r"architecture\.md §(\d+)", source.read_text()))
    assert cited and cited <= sections, cited - sections
