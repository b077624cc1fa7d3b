"""`flowsql schedule` never writes or deletes through a symbolic link, nor replaces one: the systemd
units, the GitHub workflow and the folders on its way, the cron log. (The folder the user names,
--unit-dir or --repo, may itself be or lie behind a link: the user chose it.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowsql.cli import app

REPORT = ("--", "--engine", "local", "--source", "./logs")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def refused(r, *needles):
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("flowsql: error: "), r.stderr
    for n in needles:
        assert n in line, line


def state(folder: Path) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = Path(dirpath) / n
            out[p.relative_to(folder).as_posix()] = ("link", os.readlink(p)) if p.is_symlink() else \
                ("dir",) if p.is_dir() else ("file", p.read_bytes()) if p.is_file() else ("other",)
    return out


@pytest.fixture
def elsewhere(tmp_path):
    e = tmp_path / "elsewhere"
    e.mkdir()
    (e / "precious").write_text("the user's")
    return e


def _managed_units(tmp_path) -> Path:
    """Units flowsql wrote (installed once into a plain folder), to copy where a link points."""
    made = tmp_path / "made"
    r = invoke("schedule", "install", "--target", "systemd", "--unit-dir", made, *REPORT)
    assert r.exit_code == 0, r.output
    return made


@pytest.mark.parametrize("what", ["unit link", "pipe"])
def test_systemd_refuses_a_link_or_pipe_where_a_unit_goes(tmp_path, elsewhere, what):
    made = _managed_units(tmp_path)
    units = tmp_path / "units"
    units.mkdir()
    if what == "unit link":  # a link to a unit flowsql wrote is still not flowsql's to replace or delete
        for n in ("flowsql-report.service", "flowsql-report.timer"):
            (elsewhere / n).write_bytes((made / n).read_bytes())
            (units / n).symlink_to(elsewhere / n)
        where = units / "flowsql-report.service"
    else:
        os.mkfifo(units / "flowsql-report.service")  # read, it would block for ever
        where = units / "flowsql-report.service"
    before = state(elsewhere), state(tmp_path / "units")
    refused(invoke("schedule", "install", "--target", "systemd", "--unit-dir", units, *REPORT), str(where))
    refused(invoke("schedule", "remove", "--target", "systemd", "--unit-dir", units), str(where))
    assert (state(elsewhere), state(tmp_path / "units")) == before


@pytest.fixture
def repo(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.parametrize("link", [".github", ".github/workflows", ".github/workflows/flowsql-report.yml"])
def test_github_refuses_a_link_where_the_workflow_goes(repo, tmp_path, elsewhere, link):
    r = invoke("schedule", "install", "--target", "github", *REPORT)
    assert r.exit_code == 0, r.output
    workflow = (repo / ".github/workflows/flowsql-report.yml").read_bytes()
    (elsewhere / "flowsql-report.yml").write_bytes(workflow)  # one flowsql wrote, where the link points
    (elsewhere / "workflows").mkdir()
    (elsewhere / "workflows" / "flowsql-report.yml").write_bytes(workflow)
    for p in (".github/workflows/flowsql-report.yml", ".github/workflows", ".github"):
        if p.startswith(link):
            f = repo / p
            f.unlink() if f.is_file() else f.rmdir()
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    (repo / link).symlink_to({".github": elsewhere, ".github/workflows": elsewhere / "workflows",
                              ".github/workflows/flowsql-report.yml": elsewhere / "flowsql-report.yml"}[link])
    before = state(elsewhere), state(repo)
    refused(invoke("schedule", "install", "--target", "github", *REPORT, "--title", "changed"),
            f"{repo / link} is a symbolic link")
    refused(invoke("schedule", "remove", "--target", "github"), f"{repo / link} is a symbolic link")
    assert (state(elsewhere), state(repo)) == before


@pytest.mark.parametrize("what", ["link", "folder"])
def test_cron_refuses_a_log_path_that_is_no_file(tmp_path, elsewhere, what):
    log = tmp_path / "report.log"
    log.symlink_to(elsewhere / "precious") if what == "link" else log.mkdir()
    refused(invoke("schedule", "install", "--target", "cron", "--dry-run", "--log", log, *REPORT), "--log", str(log))
    assert (elsewhere / "precious").read_text() == "the user's"
