"""Writing the report's three files: all of them or none, never half of one.

They are written in a temporary folder beside --out, then moved into place: a new --out folder is
the temporary folder renamed (it appears whole); an existing one gets each file by an atomic
rename, and nothing else in it is touched (only report.html, report.md and report.json are replaced).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import UsageError

FILES = ("report.html", "report.md", "report.json")
MEDIA_TYPES = {"report.html": "text/html; charset=utf-8", "report.md": "text/markdown; charset=utf-8",
               "report.json": "application/json"}


def to_json(report: dict) -> str:
    """report.json's text: sorted keys, two-space indent, UTF-8 unescaped, a final line feed."""
    from ..files import dumps_json

    return dumps_json(report, what="report.json", sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render(report: dict) -> dict[str, bytes]:
    """The three files' bytes."""
    from .render_html import page as html_page
    from .render_md import page as md_page

    return {"report.html": html_page(report).encode("utf-8"), "report.md": md_page(report).encode("utf-8"),
            "report.json": to_json(report).encode("utf-8")}


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    """Put the files in `out` (made if missing); returns their paths."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's folder is private; the report folder should not be
        for name, data in files.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        moved = False
        if not out.exists():
            with contextlib.suppress(OSError):  # made by someone else meanwhile: file by file below
                os.rename(tmp, out)
                moved = True
        if not moved:
            for name in files:
                os.replace(tmp / name, out / name)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write the report there ({e.strerror or e})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / name for name in files]
