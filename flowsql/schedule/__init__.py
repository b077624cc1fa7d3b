"""`flowsql schedule`: the monthly report run, installed where a user's automation lives.

One module per target, each a class with the same small interface, and a `TARGET` declaration
(target_spec.TargetSpec: its options, its factory, what `remove` passes it) that the registry
(`targets.py`) and the CLI read:

- `plan(schedule) -> Plan`: what installing `schedule` would create, update or keep, read from the
  current state (printable; `--dry-run` prints it and stops). `plan.apply()` makes the changes.
- `removal(name) -> Plan`: what removing the schedule `name` would delete (a UsageError, exit 2,
  when there is no such schedule: a mistyped name must not pass for a done removal).
- `list() -> [Installed]`: the flowsql schedules on that target.

| target | module | what is installed |
|---|---|---|
| cron | `cron` | a marked block in the user's crontab |
| systemd | `systemd` | a user service and timer (`Persistent=true`) |
| github | `github` | `.github/workflows/NAME.yml` in a git repository |
| eventbridge | `eventbridge` | an EventBridge Scheduler schedule starting a CodeBuild project |

Every name starts with `flowsql-report` and everything carries flowsql's mark (a marker comment, a
tag, a description), so list and remove never touch what flowsql did not create. What every
schedule runs: `flowsql report --month previous` with the user's report options (`spec.py`).
"""

# The names below are loaded when first asked for: the CLI imports the registry (.targets) at
# start-up, and `flowsql --help` must not pay for the schedule's parsing and JSON code.
_EXPORTS = {"Installed": "plan", "Plan": "plan", "Step": "plan", "PREFIX": "spec", "Schedule": "spec"}


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Installed", "Plan", "PREFIX", "Schedule", "Step"]
