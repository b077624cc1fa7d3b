"""The extension points' registries refuse an incomplete entry, and what is derived from them is
what they say: the schedule targets (flowsql.schedule.targets: the CLI's --target choice, its
options, remove) and the posture snapshot's bucket settings (flowsql.inventory.catalog: what
`inventory sync` calls and the loader reads). The round trip of every bucket setting through a sync
against the moto server and the loader is in tests/aws/test_catalog_round_trip.py."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import typing

import pytest
import typer
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.errors import SourceError, UsageError
from flowsql.inventory import catalog
from flowsql.inventory.catalog import BUCKET_SETTINGS, BucketSetting
from flowsql.schedule import targets
from flowsql.schedule.target_spec import TargetSpec, option_keyword

runner = CliRunner()
# the options of `flowsql schedule …` every target takes
COMMON = {"--target", "--name", "--day", "--at", "--timezone", "--report-arg", "--dry-run", "--output", "--help"}


def _schedule_command(name: str):
    return typer.main.get_command(app).commands["schedule"].commands[name]


def _options(command) -> set[str]:
    return {o for p in command.params for o in p.opts if o.startswith("--")}


def _last_error(r) -> str:
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("flowsql: error: "), r.stderr
    return lines[-1]


# -- schedule targets --------------------------------------------------------------------------------

def test_the_cli_target_choice_is_the_registry():
    for command in ("install", "list", "remove"):
        [target] = [p for p in _schedule_command(command).params if p.name == "target"]
        assert list(target.type.choices) == list(targets.names())
    r = subprocess.run([sys.executable, "-m", "flowsql", "schedule", "list", "--target", "nosuch"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert all(repr(n) in _last_error(r) for n in targets.names())


def test_every_target_declares_itself_completely():
    install, remove, listing = (_options(_schedule_command(c)) for c in ("install", "remove", "list"))
    for name in targets.names():
        spec = targets.get(name)
        assert isinstance(spec, TargetSpec) and spec.name == name
        # the factory takes every option it declares, by keyword, and `install`
        inspect.signature(spec.factory).bind(install=True, **{option_keyword(o): None for o in spec.options})
        assert set(spec.options) <= install, (name, set(spec.options) - install)
        assert set(spec.removal_options) <= remove, name
        # remove passes its options to the removal of the class the factory makes
        removal = inspect.signature(typing.get_type_hints(spec.factory)["return"].removal)
        removal.bind(None, "flowsql-report", **{kw: True for kw in spec.removal_options.values()})
    # every target-specific option of the commands is some target's: none is refused by all
    declared = {o for n in targets.names() for o in (*targets.get(n).options, *targets.get(n).removal_options)}
    assert (install | remove | listing) - COMMON == declared


def test_the_cli_reads_the_choice_without_loading_a_target():
    """`flowsql --help` builds the --target choice from the names alone: no target module (nor the
    schedule's parsing) is imported for it."""
    code = ("import sys, flowsql.cli.schedule; "
            "print(sorted(m for m in sys.modules if m.startswith('flowsql.schedule.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['flowsql.schedule.target_spec', 'flowsql.schedule.targets']"


@pytest.mark.parametrize("kwargs,needle", [
    (dict(name="nosuch", options=(), factory=None), "a factory"),
    (dict(name="Cron", options=(), factory=lambda install: None), "lower-case name"),
    (dict(name="cron", options=("unit-dir",), factory=lambda install: None), "--word"),
    (dict(name="x", options=("--all",), factory=lambda install: None, removal_options={"--all": "everything"}),
     "not both"),
])
def test_an_incomplete_target_is_refused(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        TargetSpec(**kwargs)


def test_an_unknown_target_or_another_targets_option_is_a_usage_error():
    with pytest.raises(UsageError, match="no schedule target 'nosuch'") as e:
        targets.get("nosuch")
    assert e.value.exit_code == 2
    with pytest.raises(UsageError, match="--unit-dir is for --target systemd, not cron"):
        targets.check_options("cron", {"--unit-dir": "/tmp/units"})
    # what only remove takes, given to a target whose removal does not: exit 2, nothing removed
    r = runner.invoke(app, ["schedule", "remove", "--target", "cron", "--all"])
    assert r.exit_code == 2 and "--all is for --target eventbridge, not cron" in _last_error(r)
    # an option's "not given" value (None, False, 0) is no use of it
    assert targets.check_options("cron", {"--unit-dir": None, "--all": False, "--flexible-window": 0}).name == "cron"


# -- the posture snapshot's bucket settings ------------------------------------------------------------

def _row(**change) -> dict:
    return {f.name: getattr(BUCKET_SETTINGS[0], f.name) for f in dataclasses.fields(BucketSetting)} | change


@pytest.mark.parametrize("change,needle", [
    (dict(not_found=()), "not_found"),
    (dict(not_found=("",)), "not_found"),
    (dict(spec=None), "spec"),
    (dict(args=None), "args"),
    (dict(file="lifecycle"), "NAME.json"),
    (dict(file="a/lifecycle.json"), "NAME.json"),
    (dict(method=""), "method"),
    (dict(field=""), "field"),
    (dict(iam_action=""), "iam_action"),
])
def test_an_incomplete_bucket_setting_is_refused(change, needle):
    BucketSetting(**_row())  # the row as it is passes
    with pytest.raises(ValueError, match=needle):
        BucketSetting(**_row(**change))


def test_the_table_has_one_row_per_file_and_field():
    catalog.check()
    with pytest.raises(ValueError, match="same file"):
        catalog.check((BUCKET_SETTINGS[0], BucketSetting(**_row(field="other"))))
    with pytest.raises(ValueError, match="same field"):
        catalog.check((BUCKET_SETTINGS[0], BucketSetting(**_row(file="other.json"))))


def test_every_row_fills_a_bucket_field_and_names_a_real_call():
    import boto3

    from flowsql.account.provision import inventory_sync_actions
    from flowsql.posture.snapshot import Bucket

    settings = {f.name for f in dataclasses.fields(Bucket)} - {"name", "sizes"}
    assert sorted(r.field for r in BUCKET_SETTINGS) == sorted(settings)
    for r in BUCKET_SETTINGS:
        client = boto3.client(r.client, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[r.method])
        args = r.args("some-bucket")
        assert set(operation.input_shape.required_members) <= set(args) <= set(operation.input_shape.members)
        assert r.iam_action in inventory_sync_actions()


def test_the_loader_reads_and_checks_every_row(tmp_path):
    """Each row's file is read into its Bucket field, and a file of the wrong shape is refused
    naming it (a row the loader skipped would be neither)."""
    from flowsql.posture.snapshot import load_snapshot

    for name, key in (("flow-logs.json", "FlowLogs"), ("log-groups.json", "logGroups"), ("vpcs.json", "Vpcs"),
                      ("subnets.json", "Subnets"), ("network-interfaces.json", "NetworkInterfaces")):
        (tmp_path / name).write_text(json.dumps({key: []}))
    folder = tmp_path / "buckets" / "b"
    folder.mkdir(parents=True)
    assert all(getattr(load_snapshot(tmp_path).buckets["b"], r.field) is None for r in BUCKET_SETTINGS)
    for r in BUCKET_SETTINGS:
        (folder / r.file).write_text("{}")
        with pytest.raises(SourceError, match=f"{folder / r.file}: .* is missing"):
            load_snapshot(tmp_path)
        (folder / r.file).unlink()


def test_the_reference_lists_every_row():
    """docs/posture.md's table of the snapshot's files names each row's file and AWS CLI command."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "posture.md").read_text()
    for r in BUCKET_SETTINGS:
        assert f"| `buckets/BUCKET/{r.file}` | `{r.cli} --bucket BUCKET` |" in text, r.file
