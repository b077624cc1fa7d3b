import atexit
import fcntl
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the oracle and helpers

# One folder per test session, made by the process that starts it (pytest, or xdist's controller) and
# inherited through the environment by xdist's workers and every subprocess a test starts: flowsql's
# caches (lint, render, translation; FLOWSQL_CACHE_DIR wins over XDG_CACHE_HOME and ~/.cache) and the
# generated trees the test modules share. Nothing is reused from an earlier run, nothing lands in the
# user's home.
if not os.environ.get("FLOWSQL_TEST_SESSION_DIR"):
    _session = tempfile.mkdtemp(prefix="flowsql-tests-")
    os.environ["FLOWSQL_TEST_SESSION_DIR"] = _session
    atexit.register(shutil.rmtree, _session, ignore_errors=True)
SESSION_DIR = Path(os.environ["FLOWSQL_TEST_SESSION_DIR"])
os.environ["FLOWSQL_CACHE_DIR"] = str(SESSION_DIR / "cache")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real flowsql settings."""
    cfg = tmp_path_factory.mktemp("config") / "config.json"
    monkeypatch.setenv("FLOWSQL_CONFIG", str(cfg))
    yield


def _shared_tree(scenario):
    """The tree of `scenario`, generated once per session: the first process to ask writes it under
    SESSION_DIR/trees (holding a lock), then its records (pickled, written then renamed); the others,
    xdist workers included, wait for the lock and read them."""
    from flowsql.demo.generate import generate

    key = hashlib.sha256(repr(scenario).encode()).hexdigest()[:20]
    base = SESSION_DIR / "trees"
    base.mkdir(parents=True, exist_ok=True)
    done = base / f"{key}.pickle"
    with open(base / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = base / key
        shutil.rmtree(folder, ignore_errors=True)  # what a process that died half-way left
        g = generate(folder, scenario)
        partial = base / f"{key}.pickle.partial"
        partial.write_bytes(pickle.dumps(g))
        os.replace(partial, done)
        return g


@pytest.fixture(scope="session")
def generated_tree():
    """`generated_tree(scenario)`: the generated tree of `scenario`, one per session for all the test
    modules (and xdist workers) that ask for the same scenario. Tests read it and never write in it."""
    trees: dict = {}

    def get(scenario):
        key = repr(scenario)
        if key not in trees:
            trees[key] = _shared_tree(scenario)
        return trees[key]

    return get
