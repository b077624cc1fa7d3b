"""The monthly report: posture, findings, trends and an evidence appendix, as report.html (one
self-contained file with charts), report.md and report.json (schema/report.schema.json).

    parse_month(text) -> Month                      YYYY-MM or previous (UsageError otherwise)
    Context(month, engine, pack, ...)               what the sections share
    build_report(ctx, progress=None) -> dict        report.json's content (build.py)
    render(report) -> {name: bytes}                 the three files (write.py)
    write_files(files, out) -> [Path]               atomically into --out (write.py)
    upload(aws, files, s3_uri, month) -> [{uri, sha256}]   to S3 with checksums (upload.py)

A section is one module of `flowsql.report.sections` (found by discovery); the rows' canonical
form and hash are in canonical.py; the JSON Schema in schema/report.schema.json (SCHEMA_PATH).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "report.schema.json"
