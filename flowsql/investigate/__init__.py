"""`flowsql investigate`: one subject's case file for the incident ticket, from one read of its records.

    parse_subject(text) -> Subject                         an address, a CIDR block or an ENI (subject.py)
    load_attribution(inventory_dir, window) -> Attribution the inventory and its dated snapshots (attribution.py)
    build_case(engine, window, subject, attribution, options) -> dict   case.json's content (build.py)
    render(case) -> {name: bytes}; write_case(files, out)  case.html, case.md, case.json (write.py)

The subject's records are read once, by one pack query (case-address, case-cidr or case-eni: the
body is sql/macros/case_records.sql), and every section is computed from its rows
(sections.py); the evidence names that query, its SQL as it ran, what it read or scanned, and every
input file with its SHA-256 (inputs.py). The JSON Schema is schema/case.schema.json (SCHEMA_PATH).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "case.schema.json"

from .attribution import Attribution, load_attribution  # noqa: E402
from .build import Options, build_case  # noqa: E402
from .subject import Subject, parse_subject  # noqa: E402
from .write import FILES, render, write_case  # noqa: E402

__all__ = ["FILES", "SCHEMA_PATH", "Attribution", "Options", "Subject", "build_case", "load_attribution",
           "parse_subject", "render", "write_case"]
