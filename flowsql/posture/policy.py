"""The posture policy: data classes, retention day counts, exempt classes, transit-gateway logging
and list prices.

The defaults are `policy.yaml` beside this module (`flowsql posture --show-policy` prints it). A
user's file is merged over them key by key (a list replaces the default list), then the whole is
checked: an unknown key, a value of the wrong kind or a number out of its range (a retention
CloudWatch Logs cannot keep, a price that is not a finite amount) is a UsageError naming the file and
the key. The file is read only when it is a regular file of at most MAX_POLICY_BYTES.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yaml"
MAX_POLICY_BYTES = 1 << 20  # the defaults are 3 kB
MAX_DAYS = 36500  # a hundred years: no data class keeps flow logs longer
CLOUDWATCH_MAX_RETENTION = 3653  # the longest retention CloudWatch Logs has (PutRetentionPolicy)
MAX_PRICE = 10**6  # per GB or GB-month, in any currency: AWS's list prices are cents of a dollar
_CLASS_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class DataClass:
    name: str
    s3_copy: bool  # flow logs must also reach S3
    s3_min_days: int  # S3 objects may expire no sooner than this


@dataclass(frozen=True)
class Tier:
    up_to_gb: float | None  # the tier ends at this month's cumulative volume; None: no end
    usd_per_gb: float


@dataclass(frozen=True)
class Prices:
    currency: str
    region: str
    bytes_per_gb: int
    cloudwatch_logs_storage_gb_month: float
    vended_logs_to_cloudwatch_logs: tuple[Tier, ...]
    vended_logs_to_s3: tuple[Tier, ...]
    s3_storage_gb_month: dict  # StorageType -> USD per GB-month


@dataclass(frozen=True)
class Policy:
    tag_key: str
    default_class: str
    exempt_classes: tuple[str, ...]
    classes: dict  # name -> DataClass
    cloudwatch_max_retention_days: int
    archive_storage_classes: tuple[str, ...]
    require_sse_kms: bool
    prices: Prices
    tgw_require_flow_logs: bool  # every transit gateway's traffic is logged (tgw_flow_logs_enabled)
    tgw_attachment_flow_logs: bool  # every attachment has a flow log of its own as well
    source: str  # the user's file, or "defaults"

    def known(self, name: str | None) -> bool:
        return name is not None and (name in self.classes or name in self.exempt_classes)

    def describe_classes(self) -> str:
        text = ", ".join(self.classes)
        return text + (f"; exempt: {', '.join(self.exempt_classes)}" if self.exempt_classes else "")


def default_policy_text() -> str:
    return DEFAULT_POLICY.read_text(encoding="utf-8")


def load_policy(path=None) -> Policy:
    """The shipped defaults, with the user's YAML file (if any) merged over them and checked."""
    import yaml

    defaults = yaml.safe_load(default_policy_text())
    if path is None:
        return _build(defaults, "defaults")
    from ..files import error_reason, read_regular_text

    path = Path(path)
    try:
        text = read_regular_text(path, MAX_POLICY_BYTES).removeprefix("\ufeff")
    except FileNotFoundError:
        raise UsageError(f"policy {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"policy {path}: not readable ({error_reason(e)})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"policy {path}: not valid YAML{where} ({getattr(e, 'problem', None) or e})") from None
    except RecursionError:
        raise UsageError(f"policy {path}: not valid YAML (nested too deep)") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise UsageError(f"policy {path}: not valid YAML (a number of more than "
                         f"{sys.get_int_max_str_digits():,} digits)") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"policy {path}: expected a mapping of settings (data_class, cloudwatch_logs, s3, "
                         "transit_gateways, prices)")
    return _build(_merge(defaults, data, str(path), ""), str(path))


def _merge(base: dict, over: dict, source: str, where: str) -> dict:
    out = dict(base)
    for key, value in over.items():
        dotted = f"{where}.{key}" if where else str(key)
        if not isinstance(key, str):
            raise UsageError(f"policy {source}: {dotted}: keys are names")
        if key not in base:
            # classes and storage prices are open mappings: a team adds its own
            if where in ("data_class.classes", "prices.s3_storage_gb_month"):
                out[key] = value
                continue
            raise UsageError(f"policy {source}: unknown key {dotted} (see `flowsql posture --show-policy`)")
        if isinstance(base[key], dict) and isinstance(value, dict):
            out[key] = _merge(base[key], value, source, dotted)
        else:
            out[key] = value
    return out


class _Reader:
    """Typed access to the merged mapping; every error names the file and the dotted key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, what: str):
        raise UsageError(f"policy {self.source}: {key} {what}")

    def mapping(self, data, key: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(data, dict):
            self.fail(key, "must be a mapping")
        if allowed is not None:
            for k in data:
                if k not in allowed:
                    raise UsageError(f"policy {self.source}: unknown key {key}.{k} (see `flowsql posture "
                                     "--show-policy`)")
            for k in allowed:
                if k not in data:
                    self.fail(f"{key}.{k}", "is missing")
        return data

    def text(self, value, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty text, not {_shown(value)}")
        return value.strip()

    def flag(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {_shown(value)}")
        return value

    def days(self, value, key: str, most: int = MAX_DAYS) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
            self.fail(key, f"must be a whole number of days from 1 to {most}, not {_shown(value)}")
        return value

    def price(self, value, key: str) -> float:
        if not _is_number(value) or not 0 <= value <= MAX_PRICE:
            self.fail(key, f"must be a price (a number from 0 to {MAX_PRICE}), not {_shown(value)}")
        return float(value)

    def class_name(self, value, key: str) -> str:
        name = self.text(value, key).lower()
        if not _CLASS_NAME.match(name):
            self.fail(key, f"is not a class name: {_shown(value)}")
        return name

    def names(self, value, key: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(key, "must be a list")
        return tuple(self.class_name(v, f"{key}[{i}]") for i, v in enumerate(value))

    def tiers(self, value, key: str) -> tuple[Tier, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty list of {up_to_gb, usd_per_gb}")
        tiers, last = [], 0.0
        for i, t in enumerate(value):
            k = f"{key}[{i}]"
            t = self.mapping(t, k, ("up_to_gb", "usd_per_gb"))
            end = t["up_to_gb"]
            final = i == len(value) - 1
            if final and end is not None:
                self.fail(f"{k}.up_to_gb", "must be null in the last tier (it has no end)")
            if not final and (not _is_number(end) or end <= last or end > MAX_TIER_GB):
                self.fail(f"{k}.up_to_gb", f"must be a number of GB above the tier before (at most {MAX_TIER_GB}), "
                          f"not {_shown(end)}")
            tiers.append(Tier(None if end is None else float(end), self.price(t["usd_per_gb"], f"{k}.usd_per_gb")))
            last = end if end is not None else last
        return tuple(tiers)


MAX_TIER_GB = 2**63 // 2**30  # a month's volume in GB that an AWS Long of bytes can count


def _is_number(value) -> bool:
    """A finite number: YAML's .nan and .inf are floats, and a NaN passes every comparison's `not`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) if isinstance(value, float) else True


def _shown(value) -> str:
    """A value for a message, at most 40 characters: a list or a mapping by its size (YAML aliases
    can make one whose text would be exponentially long)."""
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'mapping'} of {len(value)} item(s)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value if not isinstance(value, str) else value[:40])
    return text if len(text) <= 40 else text[:39] + "…"


def _build(data: dict, source: str) -> Policy:
    r = _Reader(source)
    top = r.mapping(data, "the policy", ("data_class", "cloudwatch_logs", "s3", "transit_gateways", "prices"))
    dc = r.mapping(top["data_class"], "data_class", ("tag_key", "default", "exempt", "classes"))
    classes = {}
    for name, rule in r.mapping(dc["classes"], "data_class.classes").items():
        key = f"data_class.classes.{name}"
        cname = r.class_name(name, key)
        rule = r.mapping(rule, key, ("s3_copy", "s3_min_days"))
        classes[cname] = DataClass(cname, r.flag(rule["s3_copy"], f"{key}.s3_copy"),
                                   r.days(rule["s3_min_days"], f"{key}.s3_min_days"))
    if not classes:
        r.fail("data_class.classes", "must name at least one class")
    exempt = r.names(dc["exempt"], "data_class.exempt")
    both = sorted(set(exempt) & set(classes))
    if both:
        r.fail("data_class.exempt", f"names a class that has rules too: {', '.join(both)}")
    default = r.class_name(dc["default"], "data_class.default")
    if default not in classes and default not in exempt:
        r.fail("data_class.default", f"{default!r} is no class of data_class.classes or data_class.exempt")
    cwl = r.mapping(top["cloudwatch_logs"], "cloudwatch_logs", ("max_retention_days",))
    s3 = r.mapping(top["s3"], "s3", ("archive_storage_classes", "require_sse_kms"))
    tgw = r.mapping(top["transit_gateways"], "transit_gateways", ("require_flow_logs", "attachment_flow_logs"))
    archive = s3["archive_storage_classes"]
    if not isinstance(archive, list) or not archive:
        r.fail("s3.archive_storage_classes", "must be a non-empty list of storage classes (GLACIER, …)")
    archive = tuple(r.text(a, f"s3.archive_storage_classes[{i}]").upper() for i, a in enumerate(archive))
    p = r.mapping(top["prices"], "prices", ("currency", "region", "bytes_per_gb", "cloudwatch_logs_storage_gb_month",
                                            "vended_logs_to_cloudwatch_logs", "vended_logs_to_s3",
                                            "s3_storage_gb_month"))
    gb = p["bytes_per_gb"]
    if gb not in (10**9, 2**30):
        r.fail("prices.bytes_per_gb", f"must be 1000000000 or 1073741824, not {_shown(gb)}")
    storage = {}
    for name, value in r.mapping(p["s3_storage_gb_month"], "prices.s3_storage_gb_month").items():
        storage[str(name)] = r.price(value, f"prices.s3_storage_gb_month.{name}")
    prices = Prices(
        currency=r.text(p["currency"], "prices.currency"), region=r.text(p["region"], "prices.region"),
        bytes_per_gb=gb,
        cloudwatch_logs_storage_gb_month=r.price(p["cloudwatch_logs_storage_gb_month"],
                                                 "prices.cloudwatch_logs_storage_gb_month"),
        vended_logs_to_cloudwatch_logs=r.tiers(p["vended_logs_to_cloudwatch_logs"],
                                               "prices.vended_logs_to_cloudwatch_logs"),
        vended_logs_to_s3=r.tiers(p["vended_logs_to_s3"], "prices.vended_logs_to_s3"),
        s3_storage_gb_month=storage,
    )
    return Policy(
        tag_key=r.text(dc["tag_key"], "data_class.tag_key"), default_class=default, exempt_classes=exempt,
        classes=classes,
        cloudwatch_max_retention_days=r.days(cwl["max_retention_days"], "cloudwatch_logs.max_retention_days",
                                             most=CLOUDWATCH_MAX_RETENTION),
        archive_storage_classes=archive, require_sse_kms=r.flag(s3["require_sse_kms"], "s3.require_sse_kms"),
        prices=prices, source=source,
        tgw_require_flow_logs=r.flag(tgw["require_flow_logs"], "transit_gateways.require_flow_logs"),
        tgw_attachment_flow_logs=r.flag(tgw["attachment_flow_logs"], "transit_gateways.attachment_flow_logs"),
    )


def policy_yaml(policy: Policy) -> str:
    """The effective policy as YAML (what --show-policy prints when a --policy file is given)."""
    import yaml

    p = policy.prices
    doc = {
        "data_class": {
            "tag_key": policy.tag_key, "default": policy.default_class, "exempt": list(policy.exempt_classes),
            "classes": {c.name: {"s3_copy": c.s3_copy, "s3_min_days": c.s3_min_days} for c in policy.classes.values()},
        },
        "cloudwatch_logs": {"max_retention_days": policy.cloudwatch_max_retention_days},
        "s3": {"archive_storage_classes": list(policy.archive_storage_classes),
               "require_sse_kms": policy.require_sse_kms},
        "transit_gateways": {"require_flow_logs": policy.tgw_require_flow_logs,
                             "attachment_flow_logs": policy.tgw_attachment_flow_logs},
        "prices": {
            "currency": p.currency, "region": p.region, "bytes_per_gb": p.bytes_per_gb,
            "cloudwatch_logs_storage_gb_month": p.cloudwatch_logs_storage_gb_month,
            "vended_logs_to_cloudwatch_logs": [{"up_to_gb": t.up_to_gb, "usd_per_gb": t.usd_per_gb}
                                               for t in p.vended_logs_to_cloudwatch_logs],
            "vended_logs_to_s3": [{"up_to_gb": t.up_to_gb, "usd_per_gb": t.usd_per_gb} for t in p.vended_logs_to_s3],
            "s3_storage_gb_month": dict(p.s3_storage_gb_month),
        },
    }
    return f"# the effective policy: the defaults with {policy.source} merged over them\n" + yaml.safe_dump(
        doc, sort_keys=False, default_flow_style=False)
