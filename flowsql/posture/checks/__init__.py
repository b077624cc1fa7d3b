"""The posture checks: one module per check, its id the module's name, found by discovery.

A check module holds `META` (a `flowsql.posture.model.CheckMeta`) and `run(facts)`, a pure function of
the snapshot and the policy (`flowsql.posture.facts.Facts`) that yields `CheckResult`s. Adding a
check is adding a file here (and its test); there is no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ...errors import FlowsqlError
from ..model import SEVERITIES, CheckMeta

# FRAMEWORK:REQUIREMENT, e.g. CIS-3.0:3.7, AWS-FSBP:EC2.6
_COMPLIANCE = re.compile(r"^[A-Za-z][A-Za-z0-9.-]*:[A-Za-z0-9.]+$")
_IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z]+$")


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    run: Callable


@lru_cache(maxsize=1)
def discover() -> tuple[Check, ...]:
    """Every check module of this package, validated, in id order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Check(_validate(info.name, getattr(module, "META", None)), _runner(info.name, module)))
    return tuple(found)


def _runner(name: str, module) -> Callable:
    run = getattr(module, "run", None)
    if not callable(run):
        raise FlowsqlError(f"posture check {name}: no run(facts) function")
    return run


def _validate(name: str, meta) -> CheckMeta:
    def bad(what: str):
        raise FlowsqlError(f"posture check {name}: {what}")

    if not isinstance(meta, CheckMeta):
        bad("no META = CheckMeta(...)")
    if meta.id != name:
        bad(f"META.id is {meta.id!r}; it must be the module's name")
    if meta.severity not in SEVERITIES:
        bad(f"severity {meta.severity!r} is none of {', '.join(SEVERITIES)}")
    for f in ("title", "why", "remediation"):
        if not isinstance(getattr(meta, f), str) or not getattr(meta, f).strip():
            bad(f"META.{f} is empty")
    if not isinstance(meta.compliance, tuple) or not all(isinstance(c, str) and _COMPLIANCE.match(c)
                                                          for c in meta.compliance):
        bad("META.compliance must be a tuple of FRAMEWORK:ID")
    if not isinstance(meta.iam_actions, tuple) or not meta.iam_actions or not all(
            isinstance(a, str) and _IAM_ACTION.match(a) for a in meta.iam_actions):
        bad("META.iam_actions must be a non-empty tuple of service:Action")
    return meta
