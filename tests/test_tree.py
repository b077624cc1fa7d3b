"""files.Tree: the one way flowsql writes, replaces and removes inside a folder it was given."""

from __future__ import annotations

import os

import pytest

from flowsql.files import Refused, Tree


@pytest.fixture
def place(tmp_path):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "a").mkdir(parents=True)
    (elsewhere / "d").mkdir(parents=True)
    (elsewhere / "f").write_text("the user's")
    (elsewhere / "d" / "g").write_text("the user's too")
    (root / "a" / "dirlink").symlink_to(elsewhere / "d")
    (root / "filelink").symlink_to(elsewhere / "f")
    (root / "dangling").symlink_to(elsewhere / "nothing")
    (root / "a" / "mine").write_text("flowsql's")
    os.mkfifo(root / "pipe")
    return Tree(root), elsewhere


def _outside(elsewhere):
    return sorted((p.relative_to(elsewhere).as_posix(), p.read_text() if p.is_file() else None)
                  for p in elsewhere.rglob("*"))


@pytest.mark.parametrize("op", [
    lambda t: t.write("a/dirlink/g", "x"), lambda t: t.write("a/dirlink/new", "x"), lambda t: t.write("filelink", "x"),
    lambda t: t.write("dangling", "x"), lambda t: t.write("pipe", "x"), lambda t: t.write("a", "x"),
    lambda t: t.remove("a/dirlink/g"), lambda t: t.remove("filelink"), lambda t: t.remove("dangling"),
    lambda t: t.remove("pipe"), lambda t: t.remove("a"), lambda t: t.rmdir("a/dirlink"),
    lambda t: t.rmtree("a/dirlink"), lambda t: t.mkdirs("a/dirlink/sub"), lambda t: t.rename("a/mine", "a/dirlink"),
    lambda t: t.entries("a/dirlink"),
])
def test_a_link_or_special_file_is_refused_and_nothing_outside_changes(place, op):
    tree, elsewhere = place
    before = _outside(elsewhere)
    with pytest.raises(Refused) as e:
        op(tree)
    assert str(tree.root) in e.value.strerror and "flowsql" in e.value.strerror
    assert _outside(elsewhere) == before and (tree.root / "a" / "mine").read_text() == "flowsql's"
    assert not [p for p in tree.root.rglob("*.tmp")]


@pytest.mark.parametrize("rel", ["../x", "/etc/x", "a/../../x", "", "a/\0"])
def test_a_path_leaving_the_folder_is_refused(place, rel):
    with pytest.raises(ValueError):
        place[0].write(rel, "x")


def test_writes_renames_and_removals_inside_the_folder(place):
    tree, elsewhere = place
    tree.write("b/c/new.json", "one")
    tree.write("b/c/new.json", b"two")
    assert (tree.root / "b/c/new.json").read_bytes() == b"two" and tree.kind("b/c/new.json") == "file"
    tree.rename("b/c/new.json", "b/c/moved.json")
    assert tree.entries("b/c") == [("moved.json", "file")]
    assert tree.remove("b/c/moved.json") and not tree.remove("b/c/moved.json")
    assert tree.rmdir("b/c") and tree.kind("b/c") is None
    assert [k for _, k in tree.entries()] == ["dir", "dir", "link", "link", "other"]
    (tree.root / "tmp" / "in").mkdir(parents=True)
    (tree.root / "tmp" / "in" / "out").symlink_to(elsewhere)
    before = _outside(elsewhere)
    tree.rmtree("tmp")  # a temporary folder of ours: the link inside goes, not what it points at
    assert tree.kind("tmp") is None and _outside(elsewhere) == before


def test_a_temporary_file_of_a_writer_killed_with_sigkill_is_removed_by_the_next_write(tmp_path):
    import signal
    import subprocess
    import sys

    killed = subprocess.run([sys.executable, "-c", "import os, signal, sys; from flowsql.files import Tree\n"
                             "with Tree(sys.argv[1], create=True).writer('vpcs.json') as f:\n"
                             "    f.write('half'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)", str(tmp_path)])
    assert killed.returncode == -signal.SIGKILL
    [left] = [p.name for p in tmp_path.iterdir()]
    assert left.startswith(".vpcs.json.") and left.endswith(".tmp")
    mine = tmp_path / f".notes.{os.getpid()}.0123abcd.tmp"  # a live process's: kept
    mine.write_text("x")
    Tree(tmp_path).write("subnets.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "subnets.json"])
