"""Every JSON document flowsql reads goes through one bounded, regular-file-only, strict reader
(flowsql.files.read_json), and everything it writes is strict JSON (files.dumps_json).

Hostile inputs as a user could leave them: a named pipe or /dev/zero where a file is expected, JSON
nested 200,000 deep, 5,000-digit numbers, NaN and Infinity, in the config, the caches and the
schedule's own files (the posture snapshot and the policy: tests/test_posture.py; the inventory:
tests/test_needs.py). A command that would block on a pipe runs in its own process with a timeout,
a hang guard rather than a timing assertion.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.errors import DataError
from flowsql.files import DocumentError, dumps_json, loads_json, read_json
from trees import DAY, record, write_log

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 60  # seconds; the commands here take about one


def flowsql(*args, env=None):
    return subprocess.run([sys.executable, "-m", "flowsql", *map(str, args)], capture_output=True, text=True,
                          timeout=HANG_GUARD, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("flowsql: error:")]
    assert len(lines) == 1, stderr
    assert "internal error" not in stderr, stderr
    return lines[0]


# -- the reader and the writer ----------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("NaN", "NaN is no JSON number"),
    ('{"a": [1, Infinity]}', "Infinity is no JSON number"),
    ('{"a": -Infinity}', "-Infinity is no JSON number"),
    ("[1e400]", "beyond the range of a number"),
    ("-1e400", "beyond the range of a number"),
    ('{"a": ' + "7" * 5000 + "}", "an integer of more than 4,300 digits"),
    ("[" * 200_000, "nested too deep"),
    ('{"a": ' * 100_000, "nested too deep"),
    ("", "empty"),
    ("  \n", "empty"),
    ('{"a": 1', "not JSON"),
])
def test_the_reader_refuses_what_is_not_strict_bounded_json(text, words):
    with pytest.raises(DocumentError, match=words.replace("(", r"\(").replace("+", r"\+")):
        loads_json(text)


def test_the_reader_reads_strict_json_and_a_byte_order_mark(tmp_path):
    p = tmp_path / "a.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps({"n": 2**63 - 1, "x": 1.5e308, "s": "\u00e9"}).encode())
    assert read_json(p) == {"n": 2**63 - 1, "x": 1.5e308, "s": "\u00e9"}


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_the_reader_opens_only_regular_files(tmp_path, kind):
    p = tmp_path / "a.json"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dev-zero":
        p.symlink_to("/dev/zero")
    else:
        p.mkdir()
    with pytest.raises(OSError, match="not a regular file"):
        read_json(p)  # at once: a pipe is opened without waiting for a writer


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1, {"a": -float("inf")}]])
def test_the_writer_refuses_nan_and_infinity(value):
    with pytest.raises(DataError, match="cannot write the thing as JSON"):
        dumps_json(value, what="the thing")


def _json_calls(tree):
    """(line, function, keywords) of every json.load(s)/dump(s) reference in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "json" \
                and node.attr in ("load", "loads", "dump", "dumps"):
            yield node


def test_every_json_write_is_strict_and_every_read_goes_through_the_one_reader():
    """json.dumps prints NaN and Infinity, which no JSON parser takes (report.json had NaN in it):
    every json.dump(s) in flowsql passes allow_nan=False (files.dumps_json does, and turns the
    error into one line); json.load(s) appears only in files.py, the one reader."""
    offenders = []
    for path in sorted((ROOT / "flowsql").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
        rel = path.relative_to(ROOT).as_posix()
        for ref in _json_calls(tree):
            call = calls.get(id(ref))
            if ref.attr in ("load", "loads"):
                if rel != "flowsql/files.py":
                    offenders.append(f"{rel}:{ref.lineno}: json.{ref.attr} outside files.py")
            elif call is None:
                offenders.append(f"{rel}:{ref.lineno}: json.{ref.attr} referred to, not called (an alias?)")
            elif not any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant) and k.value.value is False
                         for k in call.keywords):
                offenders.append(f"{rel}:{ref.lineno}: json.{ref.attr} without allow_nan=False")
    assert offenders == []


# -- the config -----------------------------------------------------------------------------------

def test_a_config_that_is_a_named_pipe_is_named_at_once(tmp_path):
    cfg = tmp_path / "config.json"
    os.mkfifo(cfg)
    r = flowsql("query", "top-destinations", "--engine", "athena", env={"FLOWSQL_CONFIG": str(cfg)})
    assert r.returncode == 2 and str(cfg) in error_line(r.stderr) and "not a regular file" in r.stderr
    # without --engine: the config is there, so Athena is the engine, and the pipe is named (the local
    # engine was chosen in silence, as if setup had never run)
    r = flowsql("query", "top-destinations", env={"FLOWSQL_CONFIG": str(cfg)})
    assert r.returncode == 2 and str(cfg) in error_line(r.stderr), r.stderr


@pytest.mark.parametrize("text, words", [
    ("[" * 200_000, "nested too deep"),
    ('{"version": NaN}', "NaN is no JSON number"),
    ('{"version": ' + "1" * 5000 + "}", "more than 4,300 digits"),
])
def test_a_config_that_is_not_strict_bounded_json_is_named(tmp_path, monkeypatch, text, words):
    cfg = tmp_path / "config.json"
    cfg.write_text(text)
    monkeypatch.setenv("FLOWSQL_CONFIG", str(cfg))
    r = invoke("query", "top-destinations", "--engine", "athena")
    assert r.exit_code == 2, r.output
    line = error_line(r.stderr)
    assert str(cfg) in line and words in line


# -- the caches -----------------------------------------------------------------------------------

def test_cache_entries_that_are_pipes_or_bad_json_cost_time_never_a_hang_or_an_answer(tmp_path):
    """Everything in the cache is an optimisation: an entry replaced by a named pipe, by /dev/zero,
    by JSON nested too deep or holding NaN is passed over, and the answer is the same."""
    write_log(tmp_path / "src", "a.log.gz", [record(dst="1.1.1.1", nbytes="70"), record(dst="2.2.2.2")])
    env = {"FLOWSQL_CACHE_DIR": str(tmp_path / "cache"), "FLOWSQL_CONFIG": str(tmp_path / "none.json")}
    args = ("query", "top-destinations", "--source", tmp_path / "src", "--since", DAY, "--until", DAY, "-o", "json")
    first = flowsql(*args, env=env)
    assert first.returncode == 0, first.stderr
    entries = sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert entries
    for i, p in enumerate(entries):
        p.unlink()
        kind = i % 4
        if kind == 0:
            os.mkfifo(p)
        elif kind == 1:
            p.symlink_to("/dev/zero")
        elif kind == 2:
            p.write_text("[" * 200_000)
        else:
            p.write_text('{"a": NaN}')
    again = flowsql(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert "internal error" not in again.stderr


# -- the schedule's files -----------------------------------------------------------------------------

def test_a_systemd_unit_that_is_a_named_pipe_is_named_at_once(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    os.mkfifo(units / "flowsql-report.timer")
    r = flowsql("schedule", "list", "--target", "systemd", "--unit-dir", units)
    assert r.returncode == 2, r.stderr
    assert str(units / "flowsql-report.timer") in error_line(r.stderr) and "not a regular file" in r.stderr
    r = flowsql("schedule", "install", "--target", "systemd", "--unit-dir", units, "--dry-run", "--",
                "--engine", "local", "--source", tmp_path / "logs")
    assert r.returncode == 2 and str(units / "flowsql-report.timer") in error_line(r.stderr), r.stderr


def test_a_workflow_that_is_a_named_pipe_is_named_at_once(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "flowsql-report.yml")
    # list passes over a workflow it cannot read as someone else's (it never touches those) …
    r = flowsql("schedule", "list", "--target", "github", "--repo", tmp_path)
    assert r.returncode == 0 and "no flowsql schedule" in r.stderr, r.stderr
    # … and install names it
    r = flowsql("schedule", "install", "--target", "github", "--repo", tmp_path, "--dry-run", "--",
                "--engine", "local", "--source", "./logs")
    assert r.returncode == 2, r.stderr
    assert str(folder / "flowsql-report.yml") in error_line(r.stderr) and "not a regular file" in r.stderr


def test_metadata_that_is_not_strict_json_is_no_schedule():
    from flowsql.schedule.spec import METADATA, Schedule

    for rest in ("[" * 200_000, '{"name": NaN}', '{"day": ' + "9" * 5000 + "}"):
        assert Schedule.from_metadata(f"# {METADATA} {rest}") is None
