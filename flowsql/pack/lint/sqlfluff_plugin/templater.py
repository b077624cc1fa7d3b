"""The `flowsql` templater: sqlfluff renders a pack template with the values `flowsql lint` uses.

A pack template (a `{# … #}` YAML header first) is rendered with its own `example` parameters, then
with its defaults where they reach template text the example does not, each for the engine(s) of
`[sqlfluff:templater:flowsql] engines` (default athena); every rendering is a sqlfluff variant, so
findings map back to the template's own lines. The names a template sees besides its parameters are the renderer's own
(flowsql.pack.render.context_for: `flow_logs`, the window bounds, accounts, inventory tables, `engine`,
`col`, `cidr`, `column`) for the tables, window and accounts `flowsql lint` renders with, and the
macros come from the pack's `macros/` folder. So a new query or parameter needs no `.sqlfluff` edit.

A file without a header (plain SQL) gets the same names and macros and no parameters. Jinja is
sqlfluff's (JinjaTemplater, which maps findings back to source positions) with the renderer's
whitespace handling; the renderer's stricter checks (no raw string printed, filters removed) stay
with `flowsql lint`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlfluff.core.errors import SQLTemplaterError
from sqlfluff.core.templaters import JinjaTemplater


@dataclass(frozen=True)
class _Rendering:
    """One way to render a file: the pack it belongs to and the names its template sees."""

    root: Path
    engine: str
    defaults: bool  # the query's defaults (else its example values)
    context: dict[str, Any]


def _pack_root(fname: str) -> Path:
    """The pack a file belongs to: the folder holding its `queries/` folder, or the pack in use."""
    from ....resources import sql_dir

    path = Path(fname).resolve()
    if path.parent.name == "queries" and (path.parent.parent / "macros").is_dir():
        return path.parent.parent
    return sql_dir()


def _query(in_str: str, fname: str):
    """The query whose header `in_str` starts with, or None for plain SQL. The text sqlfluff lints
    may not be the file on disk (stdin, an editor's unsaved buffer): the header is read from it."""
    from ...queries import HeaderError, parse_query, split_header

    if split_header(in_str)[0] is None:
        return None
    path = Path(fname)
    try:
        same = path.is_file() and path.read_text(encoding="utf-8") == in_str
        if same:
            return parse_query(path)
        with tempfile.TemporaryDirectory(prefix="flowsql-lint-") as tmp:
            copy = Path(tmp) / (path.name if path.suffix == ".sql" else "stdin.sql")
            copy.write_text(in_str, encoding="utf-8")
            try:
                return parse_query(copy)
            except HeaderError as e:
                raise HeaderError(str(e).replace(str(copy), fname)) from None
    except HeaderError as e:
        raise SQLTemplaterError(f"flowsql header: {str(e).split(': ', 1)[-1]}", line_no=1, line_pos=1) from None


def _engines(config) -> list[str]:
    from ..settings import engine_names

    known = engine_names()
    # default: the first registered engine (Athena, whose SQL the pack is written in)
    raw = (config.get_section(("templater", "flowsql", "engines")) if config else None) or known[0]
    engines = [e.strip() for e in str(raw).split(",") if e.strip()]
    bad = [e for e in engines if e not in known]
    if bad or not engines:
        raise SQLTemplaterError(f"[sqlfluff:templater:flowsql] engines: {raw!r} is not a list of "
                                f"{', '.join(known)}", line_no=1, line_pos=1)
    return engines


def renderings(in_str: str, fname: str, config=None) -> list[_Rendering]:
    """Every rendering `flowsql lint` checks a file with: per engine, the example values, then the
    defaults (required parameters from the example; a duplicate left out)."""
    from ....errors import FlowsqlError
    from ..settings import LINT_ACCOUNTS, lint_target, lint_window
    from ...params import resolve
    from ...render import context_for

    root = _pack_root(fname)
    query = _query(in_str, fname)
    out: list[_Rendering] = []
    seen = set()
    for engine in _engines(config):
        base = context_for(lint_target(engine), lint_window(), LINT_ACCOUNTS)
        for defaults, given in (((False, query.example), (True, query.required_example())) if query
                                else ((False, {}),)):
            try:
                values = resolve(list(query.parameters), given) if query else {}
            except FlowsqlError as e:
                raise SQLTemplaterError(f"does not render for {engine}: {e}", line_no=1, line_pos=1) from None
            key = (engine, tuple(sorted((k, str(v)) for k, v in values.items())))
            if key not in seen:
                seen.add(key)
                out.append(_Rendering(root, engine, defaults, {**base, **values}))
    return out


def _reached(templated) -> set[int]:
    """Where the literal template text a rendering printed starts (source offsets)."""
    return {s.source_slice.start for s in templated.sliced_file
            if s.slice_type == "literal" and s.templated_slice.stop > s.templated_slice.start}


class FlowsqlTemplater(JinjaTemplater):
    """Jinja, with each pack template's own parameters and flowsql's renderer context."""

    name = "flowsql"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rendering: _Rendering | None = None  # set while one rendering is processed

    def process_with_variants(self, *, in_str, fname, config=None, formatter=None):
        """Every rendering's own variant first, then the variants sqlfluff makes to reach code a
        rendering left out. sqlfluff lints at most `render_variant_limit` (5) of them, so duplicates
        (a branch-forcing variant often renders like the one it came from) are left out.

        The defaults' rendering is linted where it reaches template text the example's does not (an
        `{% if %}` the example skips). Where it only skips what the example takes, it is left to
        `flowsql lint`, which lints it rendered: sqlfluff's layout rule LT02 misjudges the indent of
        lines around a skipped `{% if %}` inside an indented expression (a CASE WHEN), its known
        false positives with untaken template blocks."""
        firsts, others = [], []
        reached: dict[str, set[int]] = {}  # engine -> template text its renderings reach
        for rendering in renderings(in_str, fname, config):
            self._rendering = rendering
            try:
                # rendered now: sqlfluff reads the context lazily, while this rendering is current
                variants = list(super().process_with_variants(
                    in_str=in_str, fname=fname, config=config, formatter=formatter))
            except SQLTemplaterError as e:  # this rendering fails; the others are still linted
                variants = [(None, [e])]
            finally:
                self._rendering = None
            if variants[0][0] is not None:
                reach = _reached(variants[0][0])
                if rendering.defaults and reach <= reached.get(rendering.engine, set()):
                    continue
                reached.setdefault(rendering.engine, set()).update(reach)
            firsts.append(variants[0])
            others += variants[1:]
        texts, errors = set(), set()
        for templated, errs in firsts + others:
            text = templated.templated_str if templated is not None else None
            if text is not None and text in texts:
                continue
            texts.add(text)
            new = [e for e in errs if (e.line_no, e.line_pos, e.desc()) not in errors]
            errors.update((e.line_no, e.line_pos, e.desc()) for e in errs)
            yield templated, new

    def _current(self, fname: str | None, config) -> _Rendering:
        if self._rendering is not None:
            return self._rendering
        # process() called on its own (not through process_with_variants): the file's first rendering
        text = Path(fname).read_text(encoding="utf-8") if fname and Path(fname).is_file() else ""
        return renderings(text, fname or "stdin", config)[0]

    def get_context(self, fname, config) -> dict[str, Any]:
        # names set in [sqlfluff:templater:flowsql:context] stay available; flowsql's own win
        return {**super().get_context(fname, config), **self._current(fname, config).context}

    def _get_jinja_env(self, config=None):
        # the renderer's whitespace handling, so sqlfluff lints the text flowsql runs (an `{% if %}`
        # on a line of its own leaves no indented blank line behind)
        env = super()._get_jinja_env(config)
        env.trim_blocks = True
        env.lstrip_blocks = True
        return env

    def _get_macros_path(self, config, key):
        configured = super()._get_macros_path(config, key)
        if configured or key != "load_macros_from_path":
            return configured
        root = (self._rendering.root if self._rendering else None) or _pack_root("")
        macros = [root / "macros"]
        if self._rendering is not None:  # and the implementations dispatch() finds for its engine
            from ...render import engine_macro_files

            macros += engine_macro_files(self._rendering.engine)
        return [str(m) for m in macros if m.exists()] or None

    def _get_loader_search_path(self, config):
        # like the renderer's loader: templates resolve `{% import %}` paths from the pack root
        configured = super()._get_loader_search_path(config)
        if configured:
            return configured
        return [str(self._rendering.root)] if self._rendering else None
