"""Typed parameters: parsing, literal rendering, and (hypothesis) that no value changes a query's structure."""

from datetime import date

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot.tokens import TokenType

from flowsql.engines.base import Target
from flowsql.errors import ParameterError, RenderError, UsageError
from flowsql.pack.params import SCALAR_TYPES, ParamSpec, Window, parse_assignments, resolve
from flowsql.pack.queries import get_query, load_pack
from flowsql.pack.render import render, render_text

WINDOW = Window(date(2026, 11, 1), date(2026, 11, 7))
TARGET = Target("athena", flow_logs="flowsql.vpc_flow_logs")


def spec(t, **kw):
    if t == "enum":
        kw.setdefault("values", ("ACCEPT", "REJECT", "ANY"))
    return ParamSpec("p", t, **kw)


def tokens(sql):
    return [(t.token_type, t.text if t.token_type not in LITERAL_TYPES else "") for t in
            sqlglot.tokenize(sql, read="trino")]


LITERAL_TYPES = {TokenType.STRING, TokenType.NUMBER}


@pytest.mark.parametrize("t,raw,sql", [
    ("int", "42", "42"), ("port", "443", "443"), ("protocol", "tcp", "6"), ("protocol", "58", "58"),
    ("ip", "10.0.0.1", "'10.0.0.1'"), ("ip", "2001:DB8::1", "'2001:db8::1'"),
    ("cidr", "10.1.2.3/16", "'10.1.0.0/16'"), ("date", "2026-11-01", "DATE '2026-11-01'"),
    ("subnet_id", "subnet-0a1b2c3d4e5f60718", "'subnet-0a1b2c3d4e5f60718'"),
    ("eni_id", "eni-1235b8ca", "'eni-1235b8ca'"), ("account_id", "123456789012", "'123456789012'"),
    ("region", "eu-west-1", "'eu-west-1'"), ("enum", "reject", "'REJECT'"),
    ("list[port]", "22, 3389", "22, 3389"),
])
def test_literal_rendering(t, raw, sql):
    assert spec(t).parse(raw).sql == sql


@pytest.mark.parametrize("t,raw", [
    ("int", "1; DROP TABLE x"), ("int", "1.5"), ("port", "65536"), ("port", "-1"), ("protocol", "ftp"),
    ("ip", "10.0.0.256"), ("ip", "' OR 1=1 --"), ("cidr", "10.0.0.0/33"), ("date", "2026-02-30"),
    ("subnet_id", "subnet-XYZ"), ("subnet_id", "subnet-0a1b2c3d' OR '1'='1"), ("eni_id", "eni-1"),
    ("account_id", "12345678901"), ("region", "us east 1"), ("enum", "DROP"), ("list[port]", "22,,80"),
])
def test_bad_values_are_rejected_naming_the_parameter(t, raw):
    with pytest.raises(ParameterError, match=r"^parameter p: "):
        spec(t).parse(raw)


def test_bounds_and_resolution():
    limit = ParamSpec("limit", "int", min=1, max=1000, default=10)
    assert resolve([limit], {})["limit"].value == 10
    with pytest.raises(ParameterError, match="limit: 0 is out of range 1..1000"):
        resolve([limit], {"limit": "0"})
    with pytest.raises(ParameterError, match="unknown parameter 'limt'"):
        resolve([limit], {"limt": "5"})
    with pytest.raises(ParameterError, match="required"):
        resolve([ParamSpec("s", "subnet_id", required=True)], {})


def test_assignments():
    assert parse_assignments(["limit=5", "action=ANY"]) == {"limit": "5", "action": "ANY"}
    for bad in (["limit"], ["=5"], ["li mit=5"]):
        with pytest.raises(ParameterError, match="malformed parameter"):
            parse_assignments(bad)
    with pytest.raises(ParameterError, match="more than once"):
        parse_assignments(["a=1", "a=2"])


def test_window():
    assert Window.from_options("2026-11-01", "2026-11-07").days == 7
    assert Window.from_options(None, "2026-11-07").since == date(2026, 11, 1)  # 7 days by default
    with pytest.raises(UsageError, match="reversed"):
        Window.from_options("2026-11-08", "2026-11-07")
    with pytest.raises(UsageError, match="--since: invalid day"):
        Window.from_options("yesterdayish", None)


# --- properties -----------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(t=st.sampled_from([t for t in SCALAR_TYPES] + ["list[port]", "list[ip]", "list[subnet_id]"]),
       raw=st.one_of(st.text(), st.text(alphabet="0123456789abcdef-.:/ ',;subnet"), st.integers().map(str)))
def test_any_accepted_value_is_one_literal(t, raw):
    """Whatever the input, a value is rejected or becomes literal tokens only (never SQL syntax)."""
    try:
        lit = spec(t).parse(raw)
    except ParameterError:
        return
    toks = sqlglot.tokenize(lit.sql, read="trino")
    kinds = {tok.token_type for tok in toks}
    assert kinds <= LITERAL_TYPES | {TokenType.COMMA, TokenType.DATE, TokenType.DASH}, lit.sql
    if not t.startswith("list["):
        assert sum(tok.token_type in LITERAL_TYPES for tok in toks) == 1


QUERY_PARAMS = [(q, p) for q in load_pack() for p in q.parameters]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("query,param", QUERY_PARAMS, ids=lambda x: getattr(x, "name", str(x)))
def test_no_parameter_value_changes_a_querys_structure(query, param, data):
    """Rendered with any accepted value, a query has the token structure it has with a reference
    value taking the same template branch: only literal tokens may differ."""
    raw = data.draw(st.one_of(st.text(max_size=40), st.sampled_from(["0", "1", "1000", "ANY", "ACCEPT",
                    "REJECT", "subnet-0a1b2c3d", "' OR 1=1 --", "10; DROP TABLE t"])))
    try:
        value = param.parse(raw)
    except ParameterError:
        return
    if param.scalar_type == "enum":
        return  # a closed list of values, each may pick its own template branch; see the test above
    base = query.required_example()  # the other required parameters keep their example values
    got = render(query, {**base, param.name: raw}, TARGET, WINDOW).sql
    # the reference: a fixed, known-good value of the same type (and list length)
    one = REFERENCE[param.scalar_type] if param.scalar_type != "int" else str(param.min or 1)
    reference = ",".join([one] * len(value)) if param.is_list else one
    ref = render(query, {**base, param.name: reference}, TARGET, WINDOW).sql
    assert tokens(got) == tokens(ref)


REFERENCE = {"subnet_id": "subnet-0a1b2c3d", "eni_id": "eni-0a1b2c3d", "vpc_id": "vpc-0a1b2c3d",
             "account_id": "123456789012", "region": "us-east-1", "ip": "10.0.0.1", "cidr": "10.0.0.0/8",
             "port": "1", "protocol": "6", "date": "2026-01-01"}


def test_a_template_printing_a_raw_string_fails():
    with pytest.raises(RenderError, match="raw str"):
        render_text("SELECT {{ 'x' }}", {}, TARGET, WINDOW)
    with pytest.raises(RenderError, match="unset value"):
        render_text("SELECT {{ nothing }}", {"nothing": None}, TARGET, WINDOW)
    with pytest.raises(RenderError):  # no escape hatch
        render_text("SELECT {{ 'x' | safe }}", {}, TARGET, WINDOW)


def test_subnet_filter_renders_only_when_given():
    q = get_query("rejects-by-subnet")
    assert "WHERE subnet_id =" not in render(q, {}, TARGET, WINDOW).sql
    assert "WHERE subnet_id = 'subnet-0a1b2c3d'" in render(q, {"subnet": "subnet-0a1b2c3d"}, TARGET, WINDOW).sql


@pytest.mark.parametrize("template", [
    "SELECT {{ p.value }}",               # the raw value behind a literal
    "SELECT {{ p.value ~ '' }}",          # concatenation would escape it into trusted text
    "SELECT {{ p | string }}",            # string filters are not available
    "SELECT {{ p | replace(\"'\", '') }}",
    "SELECT {{ engine ~ '' }}",           # any plain string, even a trusted one
    "SELECT 1 WHERE x = {{ 'a' ~ 'b' }}",
])
def test_no_way_to_print_a_parameter_unquoted(template):
    values = {"p": ParamSpec("p", "subnet_id").parse("subnet-0a1b2c3d")}
    with pytest.raises(RenderError):
        render_text(template, values, TARGET, WINDOW)
