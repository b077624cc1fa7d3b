"""Writing the report's three files: all of them or none, never half of one.

They are written in a temporary folder beside --out (`.OUT.tmp-PID-…`), read back and compared, then
moved into place: a new --out folder is the temporary folder renamed (it appears whole); an existing
one gets each file by an atomic rename, and nothing else in it is touched (only report.html,
report.md and report.json are replaced). Before anything moves, each of the three names in --out
must be a regular file or nothing (a folder, a link, a pipe there is refused: nothing is written);
the old files are kept aside until all three new ones are in, and put back if a rename fails. Two
runs into one folder take turns (a lock on the folder), so the set is one run's. A temporary folder
left by a run killed with SIGKILL is removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..errors import UsageError
from ..files import Refused, Tree, signals_held, sweep_temporary_folders, temporary_folder

FILES = ("report.html", "report.md", "report.json")
MEDIA_TYPES = {"report.html": "text/html; charset=utf-8", "report.md": "text/markdown; charset=utf-8",
               "report.json": "application/json"}
TAG = "tmp"  # .OUT.tmp-PID-XXXXXXXX


def report_json(report: dict) -> str:
    """report.json's text: sorted keys, two-space indent, UTF-8 unescaped, a final line feed."""
    from ..files import dumps_json

    return dumps_json(report, what="report.json", sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render(report: dict) -> dict[str, bytes]:
    """The three files' bytes."""
    from .pages import html_page, md_page

    return {"report.html": html_page(report).encode("utf-8"), "report.md": md_page(report).encode("utf-8"),
            "report.json": report_json(report).encode("utf-8")}


def check_out(out: Path, names=FILES) -> None:
    """A UsageError unless the report can be written to `out`: a folder (or nothing yet) in which
    each of `names` is a regular file or absent. Run before the queries, and again before writing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if not out.is_dir():
        return
    tree = Tree(out)
    for name in names:
        if tree.kind(name) not in (None, "file"):
            try:
                why = tree.refusal(name).strerror
            except OSError:  # the way to it is no plain folder
                why = f"{out / name} cannot be replaced"
            raise UsageError(f"--out {out}: {why}; nothing was written")


def sweep(out: Path) -> None:
    """Remove the temporary folders that runs killed while writing `out` left (beside it, or inside
    it when it is a mount point)."""
    out = Path(out)
    sweep_temporary_folders(out, TAG)
    if out.is_dir():
        sweep_temporary_folders(out, TAG, inside=out)


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    """Put the files in `out` (made if missing), all or none; returns their paths."""
    out = Path(out)
    check_out(out, files)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep(out)
        # beside --out, so that the files rename into it; inside it when --out is a mount point
        # (a volume given to a container): a rename cannot cross file systems
        mount = out.is_dir() and os.stat(out).st_dev != os.stat(parent).st_dev
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    tmp = None
    try:
        with signals_held():  # made and known to the cleanup below at once
            tmp = temporary_folder(out, TAG, inside=out if mount else None)
        stage = Tree(tmp)
        for name, data in files.items():
            stage.write(name, data)
        for name, data in files.items():  # what the disk gives back is what was meant
            if (tmp / name).read_bytes() != data:
                raise OSError(5, f"{name} read back differs from what was written")
        moved = False
        if not out.exists():
            with signals_held(), contextlib.suppress(OSError):  # made by someone else meanwhile: file by file
                os.rename(tmp, out)
                moved = True
        if not moved:
            _swap_in(tmp, out, list(files))
    except Refused as e:
        raise UsageError(f"--out {out}: {e.strerror}; nothing was written") from None
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write the report there ({e.strerror or e}); nothing was "
                         "changed") from None
    finally:
        if tmp is not None:
            with signals_held(), contextlib.suppress(OSError):
                Tree(tmp.parent).rmtree(tmp.name)
    return [out / name for name in files]


def _swap_in(tmp: Path, out: Path, names: list[str]) -> None:
    """Rename tmp/NAME over out/NAME for each name, all or none: the old files are linked (or
    copied) aside into `tmp` first, and put back if a rename fails."""
    import fcntl

    dest, stage = Tree(out), Tree(tmp)
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    tfd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two runs into one folder take turns; released with fd
        with signals_held():  # Ctrl-C or SIGTERM now would cut the swap in half: it waits for its end
            _swap_locked(tmp, out, names, dest, stage, fd, tfd)
    finally:
        os.close(tfd)
        os.close(fd)


def _swap_locked(tmp: Path, out: Path, names: list[str], dest: Tree, stage: Tree, fd: int, tfd: int) -> None:
    for name in names:  # again, under the lock: nothing has moved yet
        if dest.kind(name) not in (None, "file"):
            raise dest.refusal(name)
    kept = {}
    for name in names:
        if dest.kind(name) == "file":
            aside = f".old-{name}"
            try:
                os.link(name, aside, src_dir_fd=fd, dst_dir_fd=tfd, follow_symlinks=False)
            except OSError:  # a file system without hard links: a copy does
                stage.write(aside, (out / name).read_bytes())
            kept[name] = tmp / aside
    done = []
    try:
        for name in names:
            dest.move_in(tmp / name, name)
            done.append(name)
    except BaseException:
        for name in reversed(done):
            with contextlib.suppress(OSError):
                if name in kept:
                    dest.move_in(kept[name], name)
                else:
                    dest.remove(name)
        raise
