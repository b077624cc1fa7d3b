"""Text from the data reaches the terminal as text: a control character or an escape sequence in a
tag, a record's field, a file's name or an error is shown escaped (`\\x1b`), never obeyed — in table
output (plain and rich) and on stderr, through output.terminal_text. JSON escapes it itself."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.output import print_rich_table, terminal_text, to_text_table
from test_posture import Snap
from trees import DAY, day_dir, record, write_log

runner = CliRunner()

# An OSC that sets the window's title, a CSI that clears the screen, the 8-bit CSI (U+009B), a
# bell, a right-to-left override: each one acts on a terminal that receives it raw.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil"
ACTING = ("\x1b", "\x07", "\u009b", "\u202e")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def obeys(text: str) -> list[str]:
    return [c for c in ACTING if c in text]


def test_terminal_text_shows_every_acting_character_and_keeps_the_rest():
    assert terminal_text(HOSTILE) == "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil"
    assert terminal_text("a\nb\tc\rd\x00\x7f") == "a\\nb\\tc\\rd\\x00\\x7f"
    assert terminal_text("a\nb\tc", keep="\n\t") == "a\nb\tc"
    assert terminal_text("résumé 日本 → ∅ 10.0.0.1") == "résumé 日本 → ∅ 10.0.0.1"  # text is text


def test_table_cells_and_headers_are_escaped_plain_and_rich():
    plain = to_text_table(["name", "x\x1b[2J"], [(HOSTILE, 1), ("two\nlines", None)])
    assert not obeys(plain)
    assert "\\x1b]0;owned" in plain and "two\\nlines" in plain
    assert len(plain.splitlines()) == 4  # header, rule, two rows: a line break in a cell is no new row
    buf = io.StringIO()
    print_rich_table(["name"], [(HOSTILE,)], title="t\x1b[2J", file=buf)
    assert not obeys(buf.getvalue()) and "owned" in buf.getvalue()


def test_a_hostile_vpc_tag_is_escaped_in_the_posture_table(tmp_path):
    s = Snap(tmp_path)
    vpc = s.vpc("internal", name=HOSTILE)
    s.cwl_log(vpc, "/flow\x1b[2J")
    s.group("/flow\x1b[2J", 14)
    s.write()
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code in (0, 1), r.output
    assert "owned" in r.stdout  # shown, escaped
    assert not obeys(r.stdout) and not obeys(r.stderr), (r.stdout, r.stderr)
    doc = json.loads(invoke("posture", "--inventory", tmp_path, "--design", "-o", "json").stdout)
    assert doc[0]["name"] == HOSTILE  # JSON keeps the data as it is (escaped by JSON itself)


def test_a_record_field_is_escaped_in_the_query_table_and_kept_in_json(tmp_path):
    # a text file may hold any UTF-8 beyond ASCII, the 8-bit CSI and the override included
    write_log(tmp_path, "a.log", [record(eni="eni-\u009b2J\u202e1")])
    args = ("query", "top-interfaces", "--engine", "local", "--source", tmp_path, "--since", DAY, "--until", DAY)
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    assert "eni-\\x9b2J\\u202e1" in r.stdout and not obeys(r.stdout)
    rows = json.loads(invoke(*args, "-o", "json").stdout)
    assert rows[0]["interface_id"] == "eni-\u009b2J\u202e1"


def test_a_hostile_file_name_is_escaped_on_stderr(tmp_path):
    write_log(tmp_path, "a.log", [record()])
    (day_dir(tmp_path) / f"notes{HOSTILE}.txt").write_text("x")  # listed as not read
    r = invoke("query", "top-destinations", "--engine", "local", "--source", tmp_path, "--since", DAY,
               "--until", DAY)
    assert r.exit_code == 0, r.output
    assert "notes\\x1b]0;owned" in r.stderr and not obeys(r.stderr), r.stderr


def test_an_error_quoting_hostile_text_is_one_escaped_line(tmp_path):
    r = invoke("query", "top-destinations", "--engine", "local", "--source", tmp_path / f"no{HOSTILE}\nwhere")
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowsql: error: ") and not obeys(r.stderr), r.stderr


@pytest.mark.parametrize("where", ["explanation", "table"])
def test_diagnose_escapes_the_enis_it_names(tmp_path, where):
    eni = "eni-\u009b2J"
    write_log(tmp_path, "a.log", [record(src="10.0.0.1", dst="10.0.0.2", dport="22", eni=eni, action="REJECT")])
    r = invoke("diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22", "--engine", "local",
               "--source", tmp_path, "--since", DAY, "--until", DAY)
    assert r.exit_code == 0, r.output
    verdict, _, table = r.stdout.partition("evidence")
    part = verdict if where == "explanation" else table
    assert "eni-\\x9b2J" in part and not obeys(part)


def test_terminal_json_escapes_what_acts_and_stays_the_same_json():
    from flowsql.output import terminal_json

    text = json.dumps({"d": HOSTILE, "n": [1, 2]}, ensure_ascii=False, indent=2)  # C0 escaped, C1 and U+202E raw
    shown = terminal_json(text)
    assert json.loads(shown) == json.loads(text) and not obeys(shown)
    plain = json.dumps({"a": "résumé 日本"}, ensure_ascii=False, indent=2)
    assert terminal_json(plain) is plain  # nothing to escape: the text itself


def test_investigate_json_on_stdout_is_escaped_and_parses(tmp_path):
    """An ENI's description that would act on a terminal (the inventory is the account's text): case.json on
    stdout shows it escaped and still parses to the case written to case.json."""
    eni = "eni-0123456789abcdef0"
    write_log(tmp_path / "logs", "a.log.gz",
              [record(eni=eni, src="10.0.0.5", dst="198.51.100.7")])
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "network-interfaces.json").write_text(json.dumps({"NetworkInterfaces": [{
        "NetworkInterfaceId": eni, "SubnetId": "subnet-0123456789abcdef0", "VpcId": "vpc-0123456789abcdef0",
        "InterfaceType": "interface", "Description": HOSTILE, "PrivateIpAddress": "10.0.0.5"}]}))
    out = tmp_path / "out"
    r = invoke("investigate", "10.0.0.5", "--engine", "local", "--source", tmp_path / "logs", "--inventory", inv,
               "--since", DAY, "--until", DAY, "--out", out, "-o", "json")
    assert r.exit_code == 0, r.output
    assert not obeys(r.stdout) and not obeys(r.stderr)
    case = json.loads(r.stdout)
    assert case == json.loads((out / "case.json").read_text())
    assert case["interfaces"]["rows"][0]["inventory"]["description"] == HOSTILE
