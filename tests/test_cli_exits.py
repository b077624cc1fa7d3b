"""Exit codes and signals as a shell sees them: pipes, full disks, closed output, Ctrl-C, SIGTERM, a terminal."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trees import DAY, record, write_log


def env(tmp_path, **more):
    return {**os.environ, "FLOWSQL_CONFIG": str(tmp_path / "none.json"), "TMPDIR": str(tmp_path / "tmp"), **more}


def flowsql(*args):
    return [sys.executable, "-m", "flowsql", *map(str, args)]


@pytest.fixture
def tree(tmp_path):
    write_log(tmp_path / "src", "a.log.gz", [record(dst=f"10.0.{i // 250}.{i % 250}", nbytes=str(i + 1))
                                              for i in range(3000)])
    (tmp_path / "tmp").mkdir()
    return tmp_path / "src"


def query(tree, *more):
    return flowsql("query", "top-destinations", "--source", tree, "--since", DAY, "--until", DAY,
                   "-p", "limit=1000", *more)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_reader_that_goes_away_is_no_error(tree, tmp_path, fmt):
    """`flowsql query … -o table | head -1`: the reader closes the pipe; flowsql stops quietly, exit 0."""
    p = subprocess.Popen(query(tree, "-o", fmt), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env(tmp_path))
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0, err
    assert "error" not in err and "Traceback" not in err


def test_a_full_disk_is_one_line_and_exit_1(tree, tmp_path):
    with open("/dev/full", "w") as full:
        r = subprocess.run(query(tree, "-o", "json"), stdout=full, stderr=subprocess.PIPE, text=True,
                           env=env(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == "flowsql: error: cannot write the output: No space left on device"


def test_a_closed_stdout_is_one_line_and_exit_1(tree, tmp_path):
    cmd = " ".join(f"'{a}'" for a in query(tree, "-o", "csv")) + " >&-"
    r = subprocess.run(cmd, shell=True, stderr=subprocess.PIPE, text=True, env=env(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == "flowsql: error: cannot write the output: standard output is closed"


def _read_pty(master: int, proc) -> str:
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out.decode("utf-8", "replace")


def test_data_is_printed_as_data_on_a_terminal(tmp_path):
    """Rich markup in the data (`[bold]`, `[/]`) is text like any other, never markup, never a crash; an
    8-bit CSI (U+009B) is shown escaped. (An address field holds an address: the markup is in an ENI id.)"""
    write_log(tmp_path / "src", "a.log.gz", [record(eni="[bold]eni-1", nbytes="9"), record(eni="[/]", nbytes="8"),
                                             record(eni="eni-\u009b2J", nbytes="7")])
    (tmp_path / "tmp").mkdir()
    master, slave = pty.openpty()
    p = subprocess.Popen(flowsql("query", "top-interfaces", "--source", tmp_path / "src", "--since", DAY,
                                 "--until", DAY), stdout=slave, stderr=subprocess.PIPE,
                         env=env(tmp_path, COLUMNS="120", TERM="xterm"))
    os.close(slave)
    out = _read_pty(master, p)
    assert p.wait(timeout=60) == 0, p.stderr.read()
    os.close(master)
    assert "[bold]eni-1" in out and "[/]" in out
    assert "eni-\\x9b2J" in out and "\u009b" not in out


@pytest.mark.parametrize("args,needle", [
    (["--source", "a", "--source", "b"], "--source"),
    (["--since", "2026-01-01", "--since", "2026-01-02"], "--since"),
    (["-o", "json", "--output", "csv"], "--output"),
])
def test_an_option_given_twice_is_an_error(tmp_path, args, needle):
    r = subprocess.run(flowsql("query", "top-destinations", *args), capture_output=True, text=True, env=env(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert needle in line and "more than once" in line


FOLDER_OPTIONS = [
    (["inventory", "sync", "--out"], "--out"),
    (["pull", "--bucket", "b", "--out"], "--out"),
    (["pull", "--log-group", "g", "--out"], "--out"),
    (["convert", "--source", "src", "--out"], "--out"),
    (["investigate", "10.0.0.1", "--source", "src", "--out"], "--out"),
    (["demo", "--dir"], "--dir"),
]


@pytest.mark.parametrize("value", ["", " ", "a-file"])
@pytest.mark.parametrize("args,option", FOLDER_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_an_empty_folder_option_or_a_file_is_a_usage_error_before_any_aws_call(tmp_path, args, option, value):
    """`--out ''` would be `.` as a path and `--out FILE` failed after the work (or after AWS was called):
    both are exit 2 at once. The endpoint is a closed port, so a call would be a network error instead."""
    (tmp_path / "a-file").write_text("keep me\n")
    (tmp_path / "src" / "AWSLogs").mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    r = subprocess.run(flowsql(*args, value), capture_output=True, text=True, cwd=tmp_path,
                       env=env(tmp_path, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="x",
                               AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1"))
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.strip().splitlines()
    expected = "empty value" if not value.strip() else "is a file, not a folder"
    assert line.startswith(f"flowsql: error: {option}") and expected in line, line
    assert (tmp_path / "a-file").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "src", "tmp"]


@pytest.mark.parametrize("log_format,needle", [("", "empty value"), ("${version} junk", "outside ${field} tokens"),
                                               ("${version} ${no-such-field}", "no-such-field")])
def test_a_bad_log_format_is_refused_before_the_log_group_is_looked_up(tmp_path, log_format, needle):
    r = subprocess.run(flowsql("pull", "--log-group", "g", "--out", tmp_path / "o", "--log-format", log_format),
                       capture_output=True, text=True,
                       env=env(tmp_path, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="x",
                               AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1"))
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("flowsql: error: --log-format") and needle in line, line
    assert not (tmp_path / "o").exists()


def test_a_huge_number_is_a_short_usage_error(tmp_path):
    r = subprocess.run(flowsql("render", "top-destinations", "-p", "limit=" + "9" * 100_000), capture_output=True,
                       text=True, env=env(tmp_path))
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert "parameter limit" in line and "out of range" in line and len(line) < 200 and "4300" not in line


# --- signals ---------------------------------------------------------------------------------------

SLOW_QUERY = """{#-
title: Slow
description: A query that runs until it is stopped.
severity: info
needs:
  fields: [log-status]
-#}
SELECT count(*) AS n
FROM {{ flow_logs }} AS a
CROSS JOIN {{ flow_logs }} AS b
CROSS JOIN {{ flow_logs }} AS c
CROSS JOIN {{ flow_logs }} AS d
WHERE
    {{ window('a') }}
    AND {{ window('b') }}
    AND {{ window('c') }}
    AND {{ window('d') }}
    AND a.log_status = b.log_status
"""


@pytest.fixture
def slow_pack(tmp_path):
    import shutil

    from flowsql.resources import shipped_sql_dir

    pack = tmp_path / "pack"
    shutil.copytree(shipped_sql_dir(), pack)
    (pack / "queries" / "slow.sql").write_text(SLOW_QUERY)
    return pack


def _as_in_a_terminal() -> None:
    """In the child: SIGHUP's default disposition, a terminal session's. A test run under nohup (which
    ignores SIGHUP, and flowsql then leaves it ignored) would otherwise send a hangup nobody hears."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@contextlib.contextmanager
def _never_left_running(p: subprocess.Popen):
    """The slow query never ends by itself: a test that fails must not leave it eating a core."""
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _leftovers(tmp_path) -> list[str]:
    return [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("flowsql-")]


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
                                            (signal.SIGHUP, 129, "hangup")])
def test_a_signal_while_duckdb_runs_stops_it_and_cleans_up(tree, tmp_path, slow_pack, sig, code, word):
    p = subprocess.Popen(flowsql("query", "slow", "--source", tree, "--since", DAY, "--until", DAY),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_in_a_terminal,
                         env=env(tmp_path, FLOWSQL_SQL_DIR=str(slow_pack)))
    with _never_left_running(p):
        deadline = time.monotonic() + 60
        while not _leftovers(tmp_path) and time.monotonic() < deadline:  # the session folder exists: DuckDB is up
            time.sleep(0.05)
        time.sleep(1.0)  # well into the cross join
        assert p.poll() is None, p.stderr.read()
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)  # a hang guard, not a timing assertion
    assert p.returncode == code, err
    assert err.strip().splitlines()[-1] == f"flowsql: error: {word}"
    assert "▕" not in err  # DuckDB's own progress bar stays off
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_demo_says_so_and_leaves_nothing_half_written(tmp_path, sig, code, word):
    (tmp_path / "tmp").mkdir()
    p = subprocess.Popen(flowsql("demo", "--dir", tmp_path / "demo", "--days", "366"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env(tmp_path))
    assert "generating" in p.stderr.readline()
    time.sleep(0.5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    assert p.returncode == code, err
    assert err.strip().splitlines()[-1] == f"flowsql: error: {word}"
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".demo")] == []  # no staging folder left
    assert not any((tmp_path / "demo").iterdir())  # the folder it made holds nothing half written


def test_a_session_folder_left_by_a_killed_process_is_removed(tree, tmp_path):
    stale = tmp_path / "tmp" / "flowsql-duckdb-999999999-abc"
    (stale / "spill").mkdir(parents=True)
    old = time.time() - 3600
    os.utime(stale, (old, old))
    r = subprocess.run(query(tree, "-o", "csv"), capture_output=True, text=True, env=env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and _leftovers(tmp_path) == []


@pytest.mark.slow  # 1.44 million records converted
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_convert_stops_every_day_under_way_and_a_rerun_resumes(tmp_path, monkeypatch, sig, code,
                                                                              word):
    """Days are converted side by side: a signal stops them all, removes their temporary files, and
    leaves only whole days (each recorded); the next run converts the rest, and nothing else."""
    import json
    from datetime import timedelta

    from flowsql.engines.local.convert import STATE, convert
    from flowsql.logs.fields import DEFAULT_LOG_FORMAT
    from flowsql.demo.generate import Scenario, generate

    (tmp_path / "tmp").mkdir()
    src = tmp_path / "src"
    generate(src, Scenario(start=DAY, days=12, regions={"us-east-1": DEFAULT_LOG_FORMAT}, flows_per_day=60_000,
                           files_per_day=2), keep_records=False)
    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    e = env(tmp_path)
    # a query checks the files first, so that the signal comes while DuckDB writes Parquet
    subprocess.run(flowsql("query", "daily-traffic", "--source", src, "--since", DAY, "--until",
                           DAY + timedelta(days=11), "-o", "csv"), env=e, check=True, capture_output=True)
    out = tmp_path / "out"
    p = subprocess.Popen(flowsql("convert", "--source", src, "--out", out), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=e)
    deadline = time.monotonic() + 60
    while not any(x.name.endswith(".tmp") for x in out.rglob("*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code, err
    assert err.strip().splitlines()[-1] == f"flowsql: error: {word}"
    assert not [x for x in out.rglob("*") if x.name.endswith(".tmp")] and _leftovers(tmp_path) == []
    written = sorted(x.relative_to(out).as_posix() for x in out.rglob("*.parquet"))
    recorded = sorted(o for r in (out / STATE).rglob("*.json") for o in json.loads(r.read_text())["outputs"])
    assert written == recorded and len(written) < 12  # only whole days, each recorded
    resumed = convert(src, out)
    assert (resumed.days_converted, resumed.days_skipped) == (12 - len(written), len(written))


def test_the_whole_output_is_written_before_the_process_ends(tree, tmp_path):
    """The entry point ends the process without the interpreter's teardown (os._exit): everything
    printed must have been flushed first, to a pipe and to a file alike."""
    r = subprocess.run(query(tree, "-o", "json"), capture_output=True, text=True, env=env(tmp_path))
    assert r.returncode == 0 and len(__import__("json").loads(r.stdout)) == 1000 and "read 1 file(s)" in r.stderr
    out = tmp_path / "out.csv"
    with open(out, "w") as fh:
        assert subprocess.run(query(tree, "-o", "csv"), stdout=fh, env=env(tmp_path)).returncode == 0
    assert len(out.read_text().splitlines()) == 1001


def test_a_terminal_that_goes_away_during_a_query_is_a_hangup(tree, tmp_path, slow_pack):
    """The terminal closes (SIGHUP to its session) while the spinner draws on it: the run stops as
    a hangup, exit 129, nothing left behind, even though nothing can be written there any more."""
    master, slave = pty.openpty()
    p = subprocess.Popen(flowsql("query", "slow", "--source", tree, "--since", DAY, "--until", DAY),
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         env=env(tmp_path, FLOWSQL_SQL_DIR=str(slow_pack), TERM="xterm"),
                         preexec_fn=lambda: (_as_in_a_terminal(),
                                             __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0)))
    os.close(slave)
    with _never_left_running(p):
        deadline = time.monotonic() + 60
        while not _leftovers(tmp_path) and time.monotonic() < deadline:
            select.select([master], [], [], 0.05) and os.read(master, 65536)
        time.sleep(0.5)
        assert p.poll() is None
        os.close(master)  # the terminal is gone: the kernel sends SIGHUP to the session
        assert p.wait(timeout=60) == 129
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("command", [["query", "top-talkers"], ["investigate", "10.0.0.1"],
                                     ["diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22"]])
def test_an_athena_option_with_the_local_engine_is_a_usage_error(tree, tmp_path, command):
    """`--table` names a Glue table: on the local engine it was silently ignored, the answer read as the table's."""
    r = subprocess.run(flowsql(*command, "--engine", "local", "--source", tree, "--table", "other_table"),
                       capture_output=True, text=True, env=env(tmp_path))
    assert r.returncode == 2 and r.stdout == "", r.stderr
    [line] = r.stderr.strip().splitlines()
    assert "--table is an option of Athena" in line
