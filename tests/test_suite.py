"""The suite itself: `make test` is all of it (what CI runs), `make test-fast` leaves out what is
marked slow, and the slowest tests carry the mark."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    m = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.M)
    assert m, f"no make target {target}"
    return m[1]


def test_make_test_is_the_whole_suite_and_test_fast_leaves_out_the_slow_tests():
    assert "pytest" in _recipe("test") and "not slow" not in _recipe("test") and " -k " not in _recipe("test")
    assert '-m "not slow"' in _recipe("test-fast")
    assert "make test-fast" in (ROOT / "README.md").read_text()
    assert "slow:" in (ROOT / "pyproject.toml").read_text()  # registered: a typo in a mark is a warning
    assert "make test\n" in (ROOT / ".ci" / "run").read_text()  # CI runs all of it


def test_the_slowest_tests_are_marked():
    import test_cli_exits
    import test_report
    import test_schedule

    def marks(fn) -> set:
        return {m.name for m in getattr(fn, "pytestmark", [])}

    for fn in (test_report.test_the_html_opens_in_chromium_without_errors_and_shows_its_charts,
               test_report.test_the_printed_report_shows_the_sql_behind_every_figure,
               test_schedule.test_cron_install_list_remove_keeps_every_other_line,
               test_schedule.test_cron_entry_runs_exactly_the_report_command,
               test_cli_exits.test_a_signal_during_convert_stops_every_day_under_way_and_a_rerun_resumes):
        assert "slow" in marks(fn), fn.__name__
