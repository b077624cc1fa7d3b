"""report.md shows text from the data and the snapshot as text: no HTML element, link, image or code
span from a tag or a record, no table broken by a pipe or a line break. Checked by rendering it with
a CommonMark renderer with GFM tables (markdown-it-py), independent of flowsql's writer."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate

PAYLOAD = "<script>alert(1)</script> | ![x](https://example.invalid/p.png) [y](javascript:alert(2)) `z` *w*"
RECORD_PAYLOAD = "<img/src=x/onerror=alert(3)>|`q`"  # no space: it is one field of a text record


def render(md: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(md)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tags_and_cells(html: str) -> tuple[set[str], list[str]]:
    p = _Tags()
    p.feed(html)
    return p.tags, p.cells


WRITER_TAGS = {"h1", "h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "strong", "ul", "li"}


@pytest.mark.parametrize("value", [PAYLOAD, RECORD_PAYLOAD, "two\nlines | and # more", "# heading", "1. item",
                                   "---", "a\\|b", "``x``", "&lt;b&gt; is &amp;"])
def test_text_and_code_spans_render_as_exactly_the_text(value):
    from flowsql.report.render_md import code_span, text

    folded = " ".join(value.split())
    html = render(f"| h | c |\n|---|---|\n| {text(value)} | {code_span(value, in_table=True)} |\n\n"
                  f"{text(value, starts_line=True)}\n\n{code_span(value)}\n")
    tags, cells = tags_and_cells(html)
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td", "p", "code"}, html
    assert cells == ["h", "c", folded, folded], html
    paragraphs = re.findall(r"<p>(.*?)</p>", html, re.S)
    assert [unescape(re.sub("<[^>]+>", "", p)) for p in paragraphs] == [folded, folded], html


def test_a_table_of_hostile_rows_keeps_its_columns():
    from flowsql.report.render_md import table

    rows = [{"a": PAYLOAD, "b": 1}, {"a": "x|y\nz", "b": None}]
    _, cells = tags_and_cells(render(table(["a", "b"], rows)))
    assert cells == ["a", "b", " ".join(PAYLOAD.split()), "1", "x|y z", "∅"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A month of generated logs whose snapshot's tags and log groups, and one record, carry HTML and
    Markdown; the report of that month."""
    root = tmp_path_factory.mktemp("hostile")
    g = generate(root, Scenario(start=date(2025, 2, 1), days=28, flows_per_day=30, files_per_day=1, seed=5))
    inv = g.inventory_dir
    doc = json.loads((inv / "vpcs.json").read_text())
    for v in doc["Vpcs"]:
        v["Tags"] = [{"Key": "Name", "Value": PAYLOAD}, {"Key": "data-class", "Value": "<b>x</b>|y"}]
    (inv / "vpcs.json").write_text(json.dumps(doc))
    shutil.rmtree(inv / "2025-02-01")  # the dated snapshot would name the VPCs without the tags
    day = next((root / "AWSLogs").rglob("2025/02/10"))
    (day / "123456789012_vpcflowlogs_us-east-1_fl-0abc_20250210T1200Z_hostile.log").write_text(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        f"log-status\n2 123456789012 {RECORD_PAYLOAD} - - - - - - - 1739188800 1739188860 - NODATA\n")
    out = root / "report"
    r = CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "local", "--source", str(root),
                                 "--inventory", str(inv), "--out", str(out)])
    assert (out / "report.md").exists(), r.output
    return out


def test_report_md_holds_no_markup_from_the_data(hostile):
    md = (hostile / "report.md").read_text()
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    tags, cells = tags_and_cells(render(md))
    assert tags <= WRITER_TAGS, tags - WRITER_TAGS  # no img, a, script, b, em: nothing the data asked for
    assert " ".join(PAYLOAD.split()) in " ".join(cells)  # shown as the text it is, in one cell
    assert RECORD_PAYLOAD in cells  # the record's interface id, in its own cell


def test_every_table_of_report_md_keeps_its_columns(hostile):
    html = render((hostile / "report.md").read_text())
    for t in re.findall(r"<table>.*?</table>", html, re.S):
        header = len(re.findall("<th[ >]", t))
        rows = re.findall(r"<tr>(.*?)</tr>", t, re.S)[1:]
        assert rows and all(len(re.findall("<td[ >]", r)) == header for r in rows), t


def test_report_html_holds_no_markup_from_the_data(hostile):
    html = (hostile / "report.html").read_text()
    assert "<script" not in html and "<img" not in html and "<b>x" not in html
    assert "&lt;script&gt;" in html
