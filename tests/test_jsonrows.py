"""_jsonrows.c writes a table's rows as Python's json module does, or declines (the caller then uses json)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsql.report import _jsonrows, jsonrows
from flowsql.report.canonical import canonical_lines, rows_sha256

# text near every escape: control characters, quotes, backslashes, DEL, non-ASCII, astral characters
TEXT = st.text(alphabet=st.one_of(st.characters(max_codepoint=0x7F), st.sampled_from("é日\u2028\u0085😀\ufeff"),
                                  st.characters(blacklist_categories=("Cs",))), max_size=12)
SCALAR = st.one_of(st.none(), st.booleans(), TEXT,
                   st.integers(min_value=-2**63 - 5, max_value=2**63 + 5), st.integers(), st.sampled_from([0, -1]))
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner)),
                     max_leaves=8)
SEPS = [(":", ","), (": ", ", ")]


@st.composite
def tables(draw):
    keys = draw(st.lists(TEXT, unique=True, max_size=6))
    return [{k: draw(VALUE) for k in draw(st.permutations(keys))} for _ in range(draw(st.integers(0, 5)))]


def reference(rows, key_sep, item_sep, prefix, between) -> bytes:
    return between.join(prefix + json.dumps(r, sort_keys=True, ensure_ascii=False, allow_nan=False,
                                            separators=(item_sep, key_sep)) for r in rows).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(rows=tables(), seps=st.sampled_from(SEPS), prefix=st.sampled_from(["", "    "]),
       between=st.sampled_from(["\n", ",\n"]))
def test_rows_are_written_as_the_json_module_writes_them(rows, seps, prefix, between):
    key_sep, item_sep = seps
    got = jsonrows.json_rows(rows, key_sep=key_sep, item_sep=item_sep, prefix=prefix, between=between)
    assert got == reference(rows, key_sep, item_sep, prefix, between)


@pytest.mark.parametrize("value", [1.5, float("nan"), {"a": 1}, [1, {"b": 2}], 3.0, "\ud800", [1, "\udfff"], b"bytes", object()])
def test_a_value_it_does_not_write_is_declined(value):
    assert _jsonrows.encode([{"a": 1, "b": value}], ("a", "b"), ":", ",", "", "\n") is None


class Text(str):
    pass


class Number(int):
    pass


@pytest.mark.parametrize("rows", [
    [{"a": 1}, {"b": 1}],  # another row's keys
    [{"a": 1}, {"a": 1, "b": 2}],
    [{"a": Text("x")}],  # subclasses: their own __str__ or __repr__ could differ
    [{"a": Number(3)}],
    [{1: "x"}],
])
def test_rows_it_cannot_write_alike_are_declined_and_canonical_lines_still_answer(rows):
    keys = tuple(sorted(rows[0], key=str))
    assert _jsonrows.encode(rows, keys, ":", ",", "", "\n") is None
    if all(set(r) == set(rows[0]) for r in rows) and all(isinstance(k, str) for k in rows[0]):
        assert canonical_lines(rows) == reference(rows, ":", ",", "", "\n") + b"\n"


def test_canonical_lines_and_their_digest_are_the_documented_form():
    rows = [{"b": 2, "a": "x\ny", "c": None, "d": True, "e": 10**30}, {"b": -7, "a": "日本", "c": "\x1f", "d": False,
                                                                        "e": 0}]
    want = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" for r in rows)
    assert canonical_lines(rows) == want.encode()
    assert rows_sha256(rows) == hashlib.sha256(want.encode()).hexdigest()
    assert canonical_lines([]) == b""
    # a float goes the json module's way, to the same form
    assert canonical_lines([{"a": 0.1}]) == b'{"a":0.1}\n'
    with pytest.raises(ValueError):
        canonical_lines([{"a": float("nan")}])


def test_odd_arguments_are_refused_not_crashed():
    with pytest.raises(TypeError):
        _jsonrows.encode(({"a": 1},), ("a",), ":", ",", "", "\n")  # rows must be a list
    with pytest.raises(TypeError):
        _jsonrows.encode([{"a": 1}], ["a"], ":", ",", "", "\n")
    with pytest.raises(TypeError):
        _jsonrows.encode([{"a": 1}], ("a",), b":", ",", "", "\n")
    assert _jsonrows.encode([], (), ":", ",", "", "\n") == b""
    assert _jsonrows.encode([{}], (), ":", ",", "> ", "\n") == b"> {}"
    deep = [1]
    for _ in range(20):
        deep = [deep]
    assert _jsonrows.encode([{"a": deep}], ("a",), ":", ",", "", "\n") is None  # deeper than it writes
    assert jsonrows.json_rows([{"a": deep}], key_sep=":", item_sep=",", between="\n") is None


def _case_json_reference(value, pad=""):
    """case.json's form (investigate/write.py's docstring) with the json module alone."""
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")).encode
    inner = pad + "  "
    if isinstance(value, dict) and value:
        return "{\n" + ",\n".join(f"{inner}{encode(k)}: {_case_json_reference(value[k], inner)}"
                                   for k in sorted(value)) + f"\n{pad}}}"
    if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + encode(v) for v in value) + f"\n{pad}]"
    return encode(value)


def test_case_json_writes_its_tables_as_the_json_module_would():
    from flowsql.investigate.write import case_json

    case = {
        "peers": {"rows": [{"address": "10.0.0.1", "ports": [22, 443], "interfaces": ["eni-1"], "bytes": 10**20,
                            "vpc_id": None, "network": "vpc"},
                           {"address": "2001:db8::1", "ports": [], "interfaces": ["eni-\"2"], "bytes": -1,
                            "vpc_id": "vpc-1", "network": "internet"}]},
        "interfaces": {"rows": [{"interface_id": "eni-1", "inventory": {"owner": "ü", "tags": {"a": "\t"}}}]},
        "mixed": [{"a": 1}, {"b": 2}],  # rows of other keys: the json module's way
        "floats": [{"x": 0.5}],
        "empty": [], "nothing": {}, "text": "日本\x00",
    }
    assert case_json(case) == _case_json_reference(case) + "\n"


class Meddling(str):
    """A key whose comparison empties the table being written."""

    rows: list = []

    def __eq__(self, other):
        Meddling.rows.clear()
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_a_row_whose_key_could_run_code_in_a_lookup_is_declined_before_any_lookup():
    rows = [{"a": 1, "b": 2}] + [{Meddling("a"): 1, "b": 2} for _ in range(50)]
    Meddling.rows = rows
    assert _jsonrows.encode(rows, ("a", "b"), ":", ",", "", "\n") is None
    assert len(rows) == 51  # Meddling.__eq__ never ran: the list is as it was


def test_without_the_compiled_encoder_the_json_module_writes_the_same_bytes(monkeypatch):
    import sys

    from flowsql.investigate.write import case_json

    rows = [{"a": i, "b": f"x{i}\x01", "c": [i, None, True]} for i in range(5)]
    case = {"t": rows, "s": "y"}
    fast = canonical_lines(rows), case_json(case)
    monkeypatch.setitem(sys.modules, "flowsql.report._jsonrows", None)  # as where no C compiler built it
    assert jsonrows.json_rows(rows, key_sep=":", item_sep=",", between="\n") is None
    assert (canonical_lines(rows), case_json(case)) == fast


class Backwards(str):
    """A key that sorts the other way round."""

    def __lt__(self, other):
        return str.__gt__(self, other)

    def __gt__(self, other):
        return str.__lt__(self, other)

    __hash__ = str.__hash__


class Liar(str):
    """A key equal to everything, hashed as "a"."""

    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash("a")


class Stranger:
    def __eq__(self, other):
        return other == "a"

    def __hash__(self):
        return hash("a")


@pytest.mark.parametrize("second", [{Backwards("a"): 3, Backwards("b"): 4}, {"a": 3, Liar("zzz"): 4},
                                    {"a": 3, Stranger(): 4}])
def test_a_later_rows_keys_of_its_own_kind_are_declined_and_the_json_module_decides(second):
    rows = [{"a": 1, "b": 2}, second]
    assert jsonrows.json_rows(rows, key_sep=":", item_sep=",", between="\n") is None
    try:
        want = reference(rows, ":", ",", "", "\n") + b"\n"
    except TypeError:  # json refuses a key that is no str
        with pytest.raises(TypeError):
            canonical_lines(rows)
    else:
        assert canonical_lines(rows) == want


@pytest.mark.parametrize("keys", [("a", "a"), ("b", "a")])
def test_keys_that_are_not_sort_keys_order_are_declined(keys):
    assert _jsonrows.encode([{"a": 1, "b": 2}], keys, ":", ",", "", "\n") is None
