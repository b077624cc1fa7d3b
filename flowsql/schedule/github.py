"""The GitHub Actions target: `.github/workflows/NAME.yml` in a git repository.

The workflow runs on `schedule: - cron:` (five fields; UTC unless a `timezone:` IANA name is given,
which GitHub honours, daylight saving included) and on `workflow_dispatch` (a run by hand, to try it).
It installs flowsql from PyPI (pinned to the version that wrote the workflow, or `--package`), takes
AWS credentials from the role given by `--role-arn` through GitHub's OIDC provider
(aws-actions/configure-aws-credentials: no stored keys; the job asks for `id-token: write`), writes
the settings `flowsql setup` saved here (an Athena run needs them: database, workgroup, tables) to
a temporary file, runs `flowsql report --month previous …` and uploads the report folder (`--out`,
`report` when not given) as an artifact.

What GitHub does not promise: scheduled workflows run from the default branch only, may start late
or be dropped when Actions is busy (the start of every hour most of all), and are switched off after
60 days without activity in a public repository.

The workflow is written, not committed: commit and push it to the default branch.

**Quoting.** Every value is written as a JSON string, which YAML reads back unchanged; the report
command is one shell line of shlex-quoted words. Actions evaluates `${{ … }}` anywhere in a
workflow before the shell sees it, so a value holding `${{` is refused.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

from .. import __version__
from ..engines import get as get_engine
from ..errors import UsageError
from ..files import dumps_json
from .owned import read_ours, remove_ours, write_ours
from .plan import Installed, Plan, Step, absent
from .spec import MANAGED_BY, PREFIX, Schedule, option_value, runnable_engine
from .target_spec import TargetSpec

DEFAULT_OUT = "report"
PYTHON = "3.12"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
MAX_WORKFLOW_BYTES = 1 << 20  # a workflow flowsql writes is a few kB
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
# Actions versions the workflow uses: major tags, as GitHub's own examples pin them, each the current
# major of late 2026 and running on Node 24 (the Node 20 majors — checkout v4, setup-python v5,
# upload-artifact v4/v5, configure-aws-credentials v4/v5 — are deprecated and forced onto Node 24).
CHECKOUT, SETUP_PYTHON = "actions/checkout@v7", "actions/setup-python@v7"
AWS_CREDENTIALS, UPLOAD = "aws-actions/configure-aws-credentials@v6", "actions/upload-artifact@v7"
# upload-artifact reads `path` as a glob pattern: a report folder whose name would be one is refused
_GLOB = set("*?[]!")


def default_package() -> str:
    return f"flowsql=={__version__}"


class GithubTarget:
    kind = "github"

    def __init__(self, repo: str | None = None, *, role_arn: str | None = None, region: str | None = None,
                 package: str | None = None):
        self.root = repo_root(Path(repo) if repo else Path.cwd())
        if role_arn is not None and not _ROLE_ARN.match(role_arn):
            raise UsageError(f"--role-arn: {role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        if region is not None and not _REGION.match(region):
            raise UsageError(f"--region: {region!r} is not an AWS region name (e.g. eu-west-1)")
        self.role_arn, self.region = role_arn, region
        self.package = package or default_package()
        _check_value(self.package, "--package")

    @property
    def folder(self) -> Path:
        return self.root / ".github" / "workflows"

    # -- the interface ------------------------------------------------------------------------

    def plan(self, schedule: Schedule) -> Plan:
        from ..engines.athena import config

        for a in schedule.report_args:
            _check_value(a, "report option")
        if option_value(schedule.report_args, "--out") is None:
            schedule = _with_args(schedule, (*schedule.report_args, "--out", DEFAULT_OUT))
        out_dir = option_value(schedule.report_args, "--out")
        if _GLOB & set(out_dir) or not out_dir.strip():
            raise UsageError(f"report option --out {out_dir!r}: the workflow uploads the report folder with "
                             "actions/upload-artifact, which reads its path as a pattern; choose a folder name "
                             "without * ? [ ] !")
        engine = runnable_engine(schedule.report_args, config.exists())  # a workflow that could only fail: refused
        reads_aws = get_engine(engine).needs_aws  # it runs on AWS's settings (`flowsql setup`'s)
        cfg = config.load(required=True) if reads_aws else None
        needs_aws = reads_aws or option_value(schedule.report_args, "--upload") is not None
        if needs_aws and not self.role_arn:
            raise UsageError("--role-arn: the report reads AWS (Athena or an --upload): give the IAM role the "
                             "workflow assumes through GitHub's OIDC provider")
        region = self.region or (cfg.region if cfg else None)
        if self.role_arn and not region:
            raise UsageError("--region: the workflow needs the AWS region to work in")
        text = self.workflow(schedule, cfg.to_dict() if cfg else None, region)
        path = self._path(schedule.name)
        have = self._read_ours(path)
        plan = Plan(self.kind, schedule.name, existed=have is not None)
        if have == text:
            plan.steps.append(Step("keep", str(path), text))
        else:
            plan.steps.append(Step("update" if have is not None else "create", str(path), text,
                                   lambda: self._write(path, text)))
        rel = path.relative_to(self.root)
        plan.notes.append(f"commit and push {rel} to the default branch: GitHub schedules only workflows there")
        plan.notes.append("GitHub may start a scheduled run late or drop it when busy, and switches schedules off "
                          "after 60 days without activity in a public repository; Actions > "
                          f"{schedule.name} > Run workflow runs it by hand")
        if cfg is not None:
            plan.notes.append(f"the workflow carries the settings of `flowsql setup` (account {cfg.account}, "
                              f"region {cfg.region}, bucket names): keep it in a private repository")
        return plan

    def removal(self, name: str) -> Plan:
        path = self._path(name)
        if self._read_ours(path) is None:
            raise UsageError(absent(name, str(self.folder), sorted(i.name for i in self.list())))
        plan = Plan(self.kind, name, kind="remove", existed=True)
        plan.steps.append(Step("delete", str(path), run=lambda: remove_ours(self.root, path)))
        plan.notes.append(f"commit and push the removal of {path.relative_to(self.root)} to stop the schedule")
        return plan

    def list(self) -> list[Installed]:
        found = []
        for path in sorted(self.folder.glob(f"{PREFIX}*.yml")):
            try:
                text = self._read_ours(path)
            except UsageError:
                continue  # someone else's workflow with a name like ours: not listed, never touched
            if text is None:
                continue
            s = Schedule.from_metadata(text)
            found.append(Installed(path.name[: -len(".yml")], self.kind, s.describe() if s else "?", str(path),
                                   s.command() if s else "?"))
        return found

    # -- the workflow -------------------------------------------------------------------------

    def workflow(self, schedule: Schedule, settings: dict | None, region: str | None) -> str:
        q = dumps_json  # a JSON string is a YAML double-quoted scalar with the same value
        cron = f"{schedule.minute} {schedule.hour} {schedule.day} * *"
        lines = [
            f"# {schedule.name}.yml ({MANAGED_BY}): "
            f"`flowsql schedule remove --target github --name {schedule.name}` removes it",
            f"# {schedule.metadata()}",
            "#",
            "# GitHub runs scheduled workflows from the default branch only, may start them late or drop",
            "# them when Actions is busy, and switches them off after 60 days without activity in a public",
            "# repository. `workflow_dispatch` lets you run it by hand.",
            f"name: {q(schedule.name)}",
            "on:",
            "  schedule:",
            f"    - cron: {q(cron)}",
        ]
        if schedule.timezone != "UTC":
            lines.append(f"      timezone: {q(schedule.timezone)}")
        lines += ["  workflow_dispatch: {}", "permissions:", "  contents: read"]
        if self.role_arn:
            lines.append("  id-token: write  # the OIDC token configure-aws-credentials exchanges for the role")
        lines += [
            "jobs:",
            "  report:",
            "    runs-on: ubuntu-latest",
            "    timeout-minutes: 60",
            "    steps:",
            f"      - uses: {CHECKOUT}",
            f"      - uses: {SETUP_PYTHON}",
            "        with:",
            f"          python-version: {q(PYTHON)}",
            "      - name: Install flowsql",
            f"        run: {q(shlex.join(['python', '-m', 'pip', 'install', '--quiet', self.package]))}",
        ]
        if self.role_arn:
            lines += [
                f"      - uses: {AWS_CREDENTIALS}",
                "        with:",
                f"          role-to-assume: {q(self.role_arn)}",
                f"          aws-region: {q(region)}",
            ]
        config_file = "${{ runner.temp }}/flowsql-config.json"
        if settings is not None:
            settings_json = dumps_json(settings, sort_keys=True)
            _check_value(settings_json, "the flowsql settings")
            lines += [
                "      - name: The settings flowsql setup saved",
                "        env:",
                f"          FLOWSQL_CONFIG: {q(config_file)}",
                f"          FLOWSQL_SETTINGS: {q(settings_json)}",
                "        run: " + q("printf '%s\\n' \"$FLOWSQL_SETTINGS\" > \"$FLOWSQL_CONFIG\""),
            ]
        # The report prints the paths of the files it wrote: the first one's folder is the month's
        # (`--out 'reports/{month}'` becomes reports/2026-11), which the artifact step uploads. Its
        # exit status is kept (1: alarms or a month not evaluated, the report written all the same).
        listed = "${{ runner.temp }}/flowsql-report-files"
        report = (f'{schedule.command()} > "$FLOWSQL_REPORT_FILES" || status=$?; cat "$FLOWSQL_REPORT_FILES"; '
                  'if [ -s "$FLOWSQL_REPORT_FILES" ]; then printf \'folder=%s\\n\' '
                  '"$(dirname "$(head -n 1 "$FLOWSQL_REPORT_FILES")")" >> "$GITHUB_OUTPUT"; fi; exit "${status:-0}"')
        lines += [
            "      - name: Report on the previous month",
            "        id: report",
            "        env:",
            f"          FLOWSQL_CONFIG: {q(config_file)}",
            f"          FLOWSQL_REPORT_FILES: {q(listed)}",
            f"        run: {q(report)}",
            f"      - uses: {UPLOAD}",
            "        if: always() && steps.report.outputs.folder != ''",
            "        with:",
            f"          name: {q(schedule.name)}",
            "          path: ${{ steps.report.outputs.folder }}",
            "          if-no-files-found: error",
        ]
        return "\n".join(lines) + "\n"

    # -- helpers ------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.yml"

    def _read_ours(self, path: Path) -> str | None:
        return read_ours(self.root, path, "choose another --name", MAX_WORKFLOW_BYTES)

    def _write(self, path: Path, text: str) -> None:
        write_ours(self.root, path, text)


def repo_root(folder: Path) -> Path:
    """The top of the git work tree holding `folder`; a UsageError when there is none."""
    folder = folder.expanduser()
    if not folder.is_dir():
        raise UsageError(f"--repo: {str(folder)!r} is not a folder")
    git = shutil.which("git")
    if git:
        r = subprocess.run([git, "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return Path(r.stdout.strip())
    else:  # no git here: a .git folder (or a worktree's .git file) above is as good a sign
        for d in (folder.resolve(), *folder.resolve().parents):
            if (d / ".git").exists():
                return d
    raise UsageError(f"--repo: {str(folder.resolve())!r} is not in a git repository (the workflow must be "
                     "committed to the repository GitHub runs it from)")


def _with_args(schedule: Schedule, args: tuple[str, ...]) -> Schedule:
    from dataclasses import replace

    return replace(schedule, report_args=args)


def _check_value(value: str, what: str) -> None:
    if "${{" in value:
        raise UsageError(f"{what} {value!r}: GitHub Actions would evaluate the `${{{{` in it as an expression")
    if any(c in value for c in "\n\r\0"):
        raise UsageError(f"{what} {value!r}: a line break cannot be scheduled")


def _target(install: bool = False, repo: str | None = None, role_arn: str | None = None, region: str | None = None,
            package: str | None = None) -> GithubTarget:
    return GithubTarget(repo, role_arn=role_arn, region=region, package=package)


TARGET = TargetSpec("github", options=("--repo", "--role-arn", "--region", "--package"), factory=_target)
