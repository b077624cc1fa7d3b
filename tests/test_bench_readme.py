"""The README's Performance tables are the figures of bench/results.json (bench/readme.py makes them)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_module():
    spec = importlib.util.spec_from_file_location("bench_readme", ROOT / "bench" / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_agrees_with_results_json():
    module = _readme_module()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    doc = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    assert module.render(readme, doc) == readme, "run .venv/bin/python bench/readme.py after the bench"
    # every measured row is in the README, with its median
    for name, row in doc["results"].items():
        line = next((l for l in readme.splitlines() if l.startswith(f"| {name.strip()} |")), None)
        assert line is not None, name
        if row.get("median_s") is not None:
            assert f"{row['median_s']:.3f} s" in line, name


def test_a_changed_figure_changes_the_readme():
    module = _readme_module()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    doc = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    name = next(iter(doc["results"]))
    doc["results"][name]["median_s"] = 1234.5
    assert "1234.500 s" in module.render(readme, doc)
    assert module.render(readme, doc) != readme
