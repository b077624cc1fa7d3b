"""The settings file setup writes and query reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowsql.engines.athena.config import Config, TableConfig, config_path, load, save
from flowsql.errors import UsageError


def test_path_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWSQL_CONFIG", str(tmp_path / "x.json"))
    assert config_path() == tmp_path / "x.json"
    monkeypatch.delenv("FLOWSQL_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "flowsql" / "config.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".config" / "flowsql" / "config.json"


def test_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "deep" / "config.json"
    cfg = Config(region="eu-west-1", tables=[TableConfig(name="t", location="s3://b/AWSLogs/", columns=["version"],
                                                         hive=True, day_format="%Y/month=%m/day=%d",
                                                         accounts=["111111111111"], account_projection="injected")])
    assert save(cfg, path) == path
    assert load(path) == cfg
    assert json.loads(path.read_text())["tables"][0]["account_projection"] == "injected"
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left behind


def test_missing_and_broken(tmp_path):
    assert load(tmp_path / "none.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(UsageError, match="not valid"):
        load(bad)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"version": 99, "region": "x"}))
    with pytest.raises(UsageError, match="newer flowsql"):
        load(newer)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UsageError, match="not valid .not UTF-8 text"):
        load(binary)
    for text in ("[1, 2]", '"a string"', "null", '{"region": "x", "tables": [1]}', '{"version": "2", "region": "x"}'):
        bad.write_text(text)
        with pytest.raises(UsageError, match="is not valid") as e:
            load(bad)
        assert "\n" not in str(e.value)


def test_unknown_keys_are_ignored(tmp_path):
    p = Path(tmp_path / "c.json")
    p.write_text(json.dumps({"region": "us-east-1", "future": 1, "tables": [
        {"name": "t", "location": "s3://b/AWSLogs/", "columns": [], "future": 2}]}))
    assert load(p).table().name == "t"
