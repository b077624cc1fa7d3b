"""The report's files are written all or none: what --out may hold, links, killed and concurrent runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.report.write import FILES, write_files

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2025-02"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    # every day of February: a month whose logs all arrived (a day without records would be a gap, exit 1)
    return generate(tmp_path_factory.mktemp("tree"), Scenario(start=date(2025, 2, 1), days=28, flows_per_day=10,
                                                                 files_per_day=1))


@pytest.fixture
def small_pack(tmp_path, monkeypatch):
    root = tmp_path / "pack"
    shutil.copytree(ROOT / "sql", root)
    for p in (root / "queries").iterdir():
        if p.name not in {"log-coverage.sql", "rejects-by-subnet.sql", "daily-traffic.sql", "top-destinations.sql"}:
            p.unlink()
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(root))
    return root


def report(tree, out, *extra):
    return CliRunner().invoke(app, ["report", "--month", MONTH, "--engine", "local", "--source", str(tree.root),
                                    "--out", str(out), *extra])


def state(folder: Path) -> dict:
    """Every entry under `folder` (links not followed): a link's target, a file's bytes, a folder."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = Path(dirpath) / n
            out[p.relative_to(folder).as_posix()] = ("link", os.readlink(p)) if p.is_symlink() else \
                ("dir",) if p.is_dir() else ("file", p.read_bytes()) if p.is_file() else ("other",)
    return out


def temporaries(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name)


@pytest.mark.parametrize("out", ["", " "])
def test_an_empty_out_is_a_usage_error(small_pack, tree, tmp_path, monkeypatch, out):
    """`--out ''` would be the working folder: refused like `--out ' '`."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    r = report(tree, out)
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == "flowsql: error: --out: empty value" and not list(here.iterdir())


@pytest.mark.parametrize("what", ["folder", "link to a file", "link to a folder", "dangling link", "named pipe"])
@pytest.mark.parametrize("name", FILES)
def test_what_a_report_file_cannot_replace_is_refused_before_any_query(small_pack, tree, tmp_path, what, name):
    """`--out O` whose O/report.json (or .html, .md) is a folder, a link, a pipe: exit 2 before any
    query, and the other two files are not replaced either; nothing outside O is touched."""
    out, elsewhere = tmp_path / "o", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("the user's")
    out.mkdir()
    for n in FILES:
        (out / n).write_text(f"last month's {n}")
    (out / name).unlink()
    if what == "folder":
        (out / name).mkdir()
        (out / name / "inside.txt").write_text("x")
    elif what == "named pipe":
        os.mkfifo(out / name)
    else:
        (out / name).symlink_to({"link to a file": elsewhere / "precious.txt", "link to a folder": elsewhere,
                                 "dangling link": elsewhere / "nothing"}[what])
    before, outside = state(out), state(elsewhere)
    r = report(tree, out)
    assert r.exit_code == 2, r.output
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: --out {out}: {out / name} is ") and "nothing was written" in line, line
    assert "running" not in r.stderr
    assert state(out) == before and state(elsewhere) == outside and not temporaries(tmp_path)


def test_a_folder_appearing_between_the_check_and_the_write_changes_nothing(tmp_path):
    """write_files checks again: with report.json a folder, report.html and report.md stay as they were."""
    out = tmp_path / "o"
    out.mkdir()
    for n in ("report.html", "report.md"):
        (out / n).write_text("old")
    (out / "report.json").mkdir()
    from flowsql.errors import UsageError

    with pytest.raises(UsageError, match="report.json is a folder"):
        write_files({n: b"new" for n in FILES}, out)
    assert (out / "report.html").read_text() == "old" and (out / "report.md").read_text() == "old"
    assert not temporaries(tmp_path)


def test_a_rename_failing_half_way_puts_the_old_files_back(tmp_path):
    """The swap into an existing folder is all or none: here the second staged file has vanished
    (as on a disk that failed), so the first one's rename is undone."""
    from flowsql.files import temporary_folder
    from flowsql.report.write import _swap_in

    out = tmp_path / "o"
    out.mkdir()
    for n in FILES:
        (out / n).write_bytes(b"old " + n.encode())
    (out / "notes.txt").write_text("the user's")
    tmp = temporary_folder(out, "tmp")
    (tmp / "report.html").write_bytes(b"new")
    (tmp / "report.json").write_bytes(b"new")  # report.md is missing
    with pytest.raises(FileNotFoundError):
        _swap_in(tmp, out, list(FILES))
    assert {n: (out / n).read_bytes() for n in FILES} == {n: b"old " + n.encode() for n in FILES}
    assert (out / "notes.txt").read_text() == "the user's"


def test_an_existing_folder_gets_the_set_and_keeps_the_rest(small_pack, tree, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("the user's")
    (out / "report.md").write_text("last month's")
    r = report(tree, out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "notes.txt"])
    assert (out / "notes.txt").read_text() == "the user's" and "last month's" not in (out / "report.md").read_text()
    assert not temporaries(tmp_path)


KILLED = """
import os, signal, sys
from pathlib import Path
from flowsql.files import temporary_folder
tmp = temporary_folder(Path(sys.argv[1]), "tmp")  # what write_files stages the report in
(tmp / "report.html").write_bytes(b"half")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_temporary_folder_of_a_killed_run_is_removed_by_the_next(small_pack, tree, tmp_path):
    """A run killed with SIGKILL while its report was staged leaves its temporary folder; the next
    run removes it (its process is gone), and leaves a running one's alone."""
    out = tmp_path / "o"
    killed = subprocess.run([sys.executable, "-c", KILLED, str(out)], cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    [left] = temporaries(tmp_path)
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        running = tmp_path / f".o.tmp-{live.pid}-abcdefgh"
        running.mkdir()
        (tmp_path / ".o.tmp-1-notours").mkdir()  # pid 1 lives: not removed either
        r = report(tree, out)
        assert r.exit_code == 0, r.output
        assert temporaries(tmp_path) == sorted([running.name, ".o.tmp-1-notours"]), left
    finally:
        live.stdin.close()
        live.wait()


WRITER = """
import sys
from pathlib import Path
from flowsql.report.write import FILES, write_files
for i in range(int(sys.argv[3])):
    write_files({n: f"{sys.argv[2]} {i} {n}".encode() for n in FILES}, Path(sys.argv[1]))
"""


def test_concurrent_runs_into_one_folder_leave_one_runs_set(tmp_path):
    """Two processes writing the report set into one folder over and over: every file is whole, and
    the three always come from the same write (the swap takes a lock on the folder)."""
    out = tmp_path / "o"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(out), who, "40"], cwd=ROOT) for who in "AB"]
    seen = set()
    while any(p.poll() is None for p in procs):
        if out.is_dir():
            import fcntl

            fd = os.open(out, os.O_RDONLY)
            try:  # read the set as a reader that takes the same lock would
                fcntl.flock(fd, fcntl.LOCK_SH)
                texts = [(out / n).read_text() if (out / n).exists() else None for n in FILES]
            finally:
                os.close(fd)
            if None not in texts:
                seen.add(tuple(t.rsplit(" ", 1)[0] for t in texts))
    assert all(p.returncode == 0 for p in procs)
    final = tuple((out / n).read_text().rsplit(" ", 1)[0] for n in FILES)
    assert len(set(final)) == 1, final
    assert all(len(set(s)) == 1 for s in seen), seen
    assert not temporaries(tmp_path)


LOOP = """
import signal, sys
from pathlib import Path
from flowsql.cli.main import on_sigterm
from flowsql.report.write import FILES, write_files
signal.signal(signal.SIGTERM, on_sigterm)  # as `flowsql` itself does
i = 0
while True:
    write_files({n: (f"{i} {n} " + "x" * 200_000).encode() for n in FILES}, Path(sys.argv[1]))
    if i == 0:
        print("ready", flush=True)
    i += 1
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_at_any_point_of_the_writing_leaves_whole_files(tmp_path, sig):
    """A process writing the report set over and over is stopped wherever it happens to be. Each
    file is whole; after SIGTERM the set is one write's and no temporary folder is left; after
    SIGKILL the next run removes the temporary folder the killed one left."""
    out = tmp_path / "o"
    p = subprocess.Popen([sys.executable, "-c", LOOP, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(sig)
    p.wait()
    texts = {n: (out / n).read_text() for n in FILES}
    writes = {t.split(" ", 1)[0] for t in texts.values()}
    for n, t in texts.items():
        assert t.split(" ")[1:] == [n, "x" * 200_000], n  # whole
    if sig == signal.SIGTERM:
        assert len(writes) == 1 and not temporaries(tmp_path)
    write_files({n: b"next" for n in FILES}, out)
    assert not temporaries(tmp_path) and all((out / n).read_bytes() == b"next" for n in FILES)
