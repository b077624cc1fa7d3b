"""`-o csv` is safe to open in a spreadsheet (OWASP, "CSV Injection"): every text cell is quoted,
one that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote;
numbers stay bare numbers, negative ones included; NULL is an empty field."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.output import to_csv
from test_posture import Snap
from trees import DAY, record, write_log

runner = CliRunner()
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "-5"]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_begins_like_a_formula_is_neutralised(text):
    out = to_csv(["value"], [(text,)])
    assert parse(out)[1] == ["'" + text]
    assert out.splitlines()[0] == '"value"'


def test_numbers_stay_numbers_and_text_is_quoted():
    out = to_csv(["a", "b", "c", "d", "e", "f"], [(-5, 1.5, Decimal("-7"), None, "", "say \"hi\"")])
    assert out.splitlines()[1] == '-5,1.5,-7,,"","say ""hi"""'
    assert parse(out)[1] == ["-5", "1.5", "-7", "", "", 'say "hi"']


def test_plain_text_is_quoted_but_unchanged():
    assert parse(to_csv(["x"], [("10.0.0.1",), ("a=b",), ("x-1",)]))[1:] == [["10.0.0.1"], ["a=b"], ["x-1"]]


def test_query_csv_neutralises_a_field_from_the_data(tmp_path):
    write_log(tmp_path, "a.log", [record(eni="=cmd|calc")])
    r = runner.invoke(app, ["query", "top-interfaces", "--engine", "local", "--source", str(tmp_path), "--since",
                            str(DAY), "--until", str(DAY), "-o", "csv"])
    assert r.exit_code == 0, r.output
    header, row = parse(r.stdout)
    assert row[header.index("interface_id")] == "'=cmd|calc"
    line = r.stdout.splitlines()[1]
    assert line.startswith('"\'=cmd|calc"')
    assert ",1," in line  # flows: a bare number


def test_posture_csv_neutralises_a_hostile_tag(tmp_path):
    s = Snap(tmp_path)
    s.vpc("internal", name="@SUM(1+1)*cmd|' /C calc'!A0")
    s.write()
    r = runner.invoke(app, ["posture", "--inventory", str(tmp_path), "--design", "-o", "csv"])
    rows = parse(r.stdout)
    assert rows[1][rows[0].index("name")] == "'@SUM(1+1)*cmd|' /C calc'!A0"
