"""Writing a case's three files into its folder, all of them or none (the monthly report's writer)."""

from __future__ import annotations

from pathlib import Path

FILES = ("case.html", "case.md", "case.json")


def case_json(case: dict) -> str:
    """case.json's text: sorted keys, UTF-8 unescaped, an object's keys one a line (two-space indent)
    and each item of a list of objects (a table's rows) on a line of its own, a final line feed.
    (Python's encoder indents in Python, a tenth of its speed: a busy subject's case has tens of
    thousands of rows, whose text report.jsonrows writes, in C where it can.) A NaN or an infinity is
    a DataError, as everything flowsql writes."""
    import json

    from ..errors import DataError
    from ..report.jsonrows import json_rows

    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")).encode

    def dump(value, pad: str) -> str:
        inner = pad + "  "
        if isinstance(value, dict) and value:
            return "{\n" + ",\n".join(f"{inner}{encode(str(k))}: {dump(value[k], inner)}" for k in sorted(value)) \
                + f"\n{pad}}}"
        if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
            fast = json_rows(value, key_sep=": ", item_sep=", ", prefix=inner, between=",\n")
            rows = fast.decode("utf-8") if fast is not None else ",\n".join(inner + encode(v) for v in value)
            return "[\n" + rows + f"\n{pad}]"
        return encode(value)

    try:
        return dump(case, "") + "\n"
    except ValueError as e:
        raise DataError(f"cannot write case.json as JSON: {e} (a NaN or an infinity, which JSON cannot hold)") from None


def render(case: dict) -> dict[str, bytes]:
    """The three files' bytes."""
    from .render_html import page as html_page
    from .render_md import page as md_page

    return {"case.html": html_page(case).encode("utf-8"), "case.md": md_page(case).encode("utf-8"),
            "case.json": case_json(case).encode("utf-8")}


def write_case(files: dict[str, bytes], out: Path) -> list[Path]:
    """Into `out` (made if missing) as the report is written: in a temporary folder beside it, then
    moved in; in an existing folder only the case's three files are replaced."""
    from ..report.write import write_files

    return write_files(files, Path(out))
