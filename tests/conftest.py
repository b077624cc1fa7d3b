import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the oracle and helpers
# The lint cache must not leak between runs or into the user's home.
os.environ.setdefault("FLOWSQL_CACHE_DIR", str(ROOT / ".pytest_cache" / "flowsql"))


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real flowsql settings."""
    cfg = tmp_path_factory.mktemp("config") / "config.json"
    monkeypatch.setenv("FLOWSQL_CONFIG", str(cfg))
    yield
