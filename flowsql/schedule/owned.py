"""A schedule target's own files (systemd units, GitHub workflows): read, written and removed in their
folder through files.Tree, so that no symbolic link is followed and only a regular file flowsql wrote
(its first line says so) is ever replaced or deleted."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..files import Refused, Tree, read_regular_text
from .spec import MANAGED_BY


def read_ours(root: Path, path: Path, advice: str, limit: int) -> str | None:
    """The file's text if flowsql wrote it; None when absent; a UsageError for anything else there
    (someone else's file, a link, a folder, a pipe, a file over `limit` bytes), or a link on the way
    to it."""
    tree, rel = Tree(root), Path(path).relative_to(root)
    kind = tree.kind(rel)
    if kind is None:
        try:
            tree.entries(rel.parent)  # a link on the way: said now, not when the file is written
        except FileNotFoundError:
            pass
        except Refused as e:
            raise UsageError(f"{e.strerror} ({advice})") from None
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
        return None
    if kind != "file":
        raise UsageError(f"{tree.refusal(rel).strerror} ({advice})")
    try:
        text = read_regular_text(path, limit)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    if MANAGED_BY not in (text.splitlines() or [""])[0]:
        raise UsageError(f"{path} exists and was not written by flowsql: flowsql leaves it alone ({advice})")
    return text


def write_ours(root: Path, path: Path, text: str) -> None:
    try:
        Tree(root, create=True).write(Path(path).relative_to(root), text)
    except Refused as e:
        raise UsageError(e.strerror) from None


def remove_ours(root: Path, path: Path) -> None:
    try:
        Tree(root).remove(Path(path).relative_to(root))
    except Refused as e:
        raise UsageError(e.strerror) from None
