"""Writing a case's three files into its folder, all of them or none (the monthly report's writer)."""

from __future__ import annotations

from pathlib import Path

FILES = ("case.html", "case.md", "case.json")


def to_json(case: dict) -> str:
    """case.json's text: sorted keys, two-space indent, UTF-8 unescaped, a final line feed."""
    from ..files import dumps_json

    return dumps_json(case, what="case.json", sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render(case: dict) -> dict[str, bytes]:
    """The three files' bytes."""
    from .render_html import page as html_page
    from .render_md import page as md_page

    return {"case.html": html_page(case).encode("utf-8"), "case.md": md_page(case).encode("utf-8"),
            "case.json": to_json(case).encode("utf-8")}


def write_case(files: dict[str, bytes], out: Path) -> list[Path]:
    """Into `out` (made if missing) as the report is written: in a temporary folder beside it, then
    moved in; in an existing folder only the case's three files are replaced."""
    from ..report.write import write_files

    return write_files(files, Path(out))
