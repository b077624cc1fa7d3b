"""Making one month's report end to end: what `flowsql report` does between parsing its options and
printing what happened.

Everything that can be refused is refused before any query runs (the output folder, the upload
location and whether it may be written, the inventory folder, the policy); then the queries run on
the chosen engine (the local engine reads the files of its own window: the other windows a section
asks for get engines of their own, all closed at the end), the files are written, then uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import FlowsqlError, UsageError


@dataclass
class ReportRun:
    """One report's run, checked (`prepare`) before any work."""

    month: object  # flowsql.report.month.Month
    engine: object  # flowsql.engines.base.EngineChoice
    out: Path
    pack: dict
    inventory: Path | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    policy: Path | None = None
    upload_to: str | None = None
    report: dict | None = None
    files: dict = field(default_factory=dict)
    _aws: object = None

    @classmethod
    def prepare(cls, month: str, engine, *, out: str | None = None, inventory: Path | None = None,
                accounts=(), regions=(), policy: Path | None = None, upload: str | None = None) -> "ReportRun":
        """Check the options (UsageError) and load the query pack; nothing is written yet."""
        from .. import posture
        from ..pack.queries import HeaderError, load_pack
        from .month import parse_month
        from .upload import keys_for
        from .write import check_out

        m = parse_month(month)
        if out is not None and not out.strip():
            raise UsageError("--out: empty value")
        target = Path(out.replace("{month}", m.label)) if out is not None else Path("reports") / m.label
        check_out(target)  # a folder or a link where a report file goes is refused before any work
        if upload is not None:
            keys_for(upload, m.label, ())  # a malformed location is refused before any work
        if inventory is not None and not inventory.is_dir():
            raise UsageError(f"--inventory {inventory}: no such folder")
        if policy is not None:
            posture.load_policy(policy)
        try:
            pack = {q.name: q for q in load_pack()}
        except HeaderError as e:
            raise FlowsqlError(f"the query pack is broken: {e}") from None
        return cls(m, engine, target, pack, inventory=inventory, accounts=tuple(accounts), regions=tuple(regions),
                   policy=policy, upload_to=upload)

    @property
    def month_not_over(self) -> bool:
        from ..pack.params import today_utc

        return self.month.last >= today_utc()

    def sweep(self) -> None:
        """Remove what a run killed while writing this report left beside it."""
        from .write import sweep

        sweep(self.out)

    def check_upload(self) -> str | None:
        """Write a probe where the report goes: a bucket that does not exist or may not be written is
        found before the queries. The probe's key (None without an upload)."""
        if self.upload_to is None:
            return None
        from ..aws import Aws
        from .upload import check_writable

        self._aws = Aws.connect(self.engine.options.profile, None)
        return check_writable(self._aws, self.upload_to, self.month.label)

    def build(self, progress: Callable[[int, int, str], None] | None = None) -> dict:
        """Run the queries and build the report (report.json's content)."""
        from .build import Context, build_report

        choice, options = self.engine, self.engine.options
        window = self.month.window
        eng = choice.create(window=window, accounts=self.accounts, regions=self.regions, inventory=self.inventory)
        others: dict = {}  # an engine made for one window: one per other window

        def engine_for(other):
            if other not in others:
                others[other] = choice.create(window=other, accounts=self.accounts, regions=self.regions)
            return others[other]

        ctx = Context(month=self.month, engine=eng, pack=self.pack, accounts=self.accounts, regions=self.regions,
                      source=options.source, inventory=self.inventory, policy=self.policy, table=options.table,
                      skip_bad_files=options.skip_bad_files,
                      engine_for=engine_for if choice.spec.per_window else None)
        try:
            self.report = build_report(ctx, progress)
        finally:
            eng.close()
            for other in others.values():
                other.close()
        return self.report

    def write(self) -> list[Path]:
        """Write report.html, report.md, report.json; their paths."""
        from .write import render, write_files

        self.files = render(self.report)
        return write_files(self.files, self.out)

    def upload(self) -> list[dict]:
        """Put the written files in S3 (checked by SHA-256); what was uploaded."""
        if self.upload_to is None:
            return []
        from .upload import upload

        return upload(self._aws, self.files, self.upload_to, self.month.label)
