"""What a pack template is linted with: the engines, the tables and the values its parameters and the
window take. Shared by the lint gate and the sqlfluff plugin's templater (`sqlfluff lint sql/`), so both
lint the same renderings."""

from __future__ import annotations


def engine_names() -> tuple[str, ...]:
    """The engines a pack template is rendered and linted for: every registered one."""
    from ...engines import names

    return names()


# What a pack template is linted with besides its parameters (`sqlfluff lint`'s flowsql templater too).
LINT_ACCOUNTS = ("123456789012",)


def lint_window():
    from datetime import date

    from ..params import Window

    return Window(date(2024, 1, 1), date(2024, 1, 7))


def lint_target(engine: str):
    """The tables a pack template is linted against: the names each engine's setup gives."""
    from ...engines import get

    return get(engine).lint_target()
