"""The design sheet: for each VPC, its data class, where its flow logs go, how long each place keeps
them, and what that costs a month (an estimate at the policy's list prices).

How the estimate is made (docs/posture.md says the same, with the sources of the prices):

- A destination's monthly cost is shared equally by the VPCs that deliver to it.
- CloudWatch Logs group: storage = `storedBytes` x the storage price per GB-month; ingestion =
  the bytes delivered a month, estimated as `storedBytes` / the days the group holds (its retention,
  or its age when younger or never expiring) x 30, at the vended-logs price to CloudWatch Logs.
- S3 bucket: storage = the newest daily `BucketSizeBytes` of each storage type x that type's price
  (a type without a price is named in `notes`); delivery = the bucket's bytes / the days it holds
  (the flow-log prefix's expiry, or the age of its oldest flow log) x 30, at the vended-logs price
  to S3. Both read stored, compressed bytes: the delivered volume is a lower bound.
- Vended-logs tiers apply to an account's monthly volume per destination type; each destination
  pays the account's average price per GB.
"""

from __future__ import annotations

from .facts import CLOUDWATCH_LOGS, S3, Facts, account_of_arn
from .lifecycle import effective_lifecycle
from .snapshot import parse_time

DAYS_PER_MONTH = 30
_PARTS = ("cloudwatch_logs_ingestion", "cloudwatch_logs_storage", "s3_delivery", "s3_storage")


def tiered_cost(gb: float, tiers) -> float:
    """The cost of `gb` in a month at tiered prices (each tier's `up_to_gb` is cumulative)."""
    cost, start = 0.0, 0.0
    for t in tiers:
        end = t.up_to_gb if t.up_to_gb is not None else float("inf")
        if gb > start:
            cost += (min(gb, end) - start) * t.usd_per_gb
        start = end
    return cost


def _average_prices(volumes: dict, tiers) -> dict:
    """account -> USD per GB at the tiers, for that account's total monthly GB."""
    totals: dict = {}
    for (account, _), gb in volumes.items():
        totals[account] = totals.get(account, 0.0) + gb
    return {a: (tiered_cost(gb, tiers) / gb if gb > 0 else tiers[0].usd_per_gb) for a, gb in totals.items()}


def design_sheet(snapshot, policy) -> list[dict]:
    facts = Facts(snapshot, policy)
    prices, gb = policy.prices, policy.prices.bytes_per_gb
    taken = snapshot.taken

    def age_days(times) -> float | None:
        times = [t for t in times if t is not None]
        if not times:
            return None
        return max(1.0, (taken - min(times)).total_seconds() / 86400)

    # Every destination (a log group or a bucket), the flow logs and VPCs that deliver to it.
    groups: dict[str, dict] = {}
    buckets: dict[str, dict] = {}
    per_vpc: dict[str, list] = {v: [] for v in facts.vpcs}
    for vpc in facts.vpcs:
        for fl, level in facts.flow_logs_of(vpc):
            dest = facts.destination(fl)
            if dest.kind == CLOUDWATCH_LOGS:
                key = facts.group_key(fl)
                d = groups.setdefault(key, {"flow_logs": [], "vpcs": [], "group": facts.log_group(fl, vpc)})
            elif dest.kind == S3 and dest.bucket:
                key = dest.bucket
                d = buckets.setdefault(key, {"flow_logs": [], "vpcs": [], "keys": set()})
                d["keys"].add(facts.object_prefix(dest, fl, vpc))
            else:
                key, d = None, None
            if d is not None:
                d["flow_logs"].append(fl)
                if vpc not in d["vpcs"]:
                    d["vpcs"].append(vpc)
            per_vpc[vpc].append((fl, level, dest, key))

    notes: dict[str, list[str]] = {}  # destination key -> notes for every VPC delivering there

    # CloudWatch Logs: bytes held, and the delivered volume they imply.
    cwl_volume, cwl_storage = {}, {}
    for key, d in groups.items():
        g = d["group"]
        if g is None:
            notes[key] = [f"log group {key} is not in the snapshot: its cost is unknown"]
            continue
        stored = g.get("storedBytes") or 0
        created = g.get("creationTime")
        held = [g.get("retentionInDays"), age_days([_from_ms(created)] if created is not None else [])]
        held = [h for h in held if h is not None]
        account = account_of_arn(g.get("logGroupArn") or g.get("arn")) or facts.account(d["vpcs"][0]) or "?"
        cwl_storage[key] = stored / gb * prices.cloudwatch_logs_storage_gb_month
        if held:
            cwl_volume[(account, key)] = stored / min(held) * DAYS_PER_MONTH / gb
        else:
            notes[key] = [f"log group {g['logGroupName']}: no creation time, so its ingestion is unknown"]
    cwl_price = _average_prices(cwl_volume, prices.vended_logs_to_cloudwatch_logs)

    # S3: bytes held per storage type, and the delivered volume they imply.
    s3_volume, s3_storage = {}, {}
    for name, d in buckets.items():
        bucket = facts.bucket(name)
        total, cost, unpriced = 0.0, 0.0, []
        for storage_type in sorted(bucket.sizes):
            size = bucket.latest_size(storage_type)
            if size is None:
                continue
            total += size
            price = prices.s3_storage_gb_month.get(storage_type)
            if price is None:
                unpriced.append(storage_type)
            else:
                cost += size / gb * price
        s3_storage[name] = cost
        bucket_notes = []
        if not bucket.sizes:
            bucket_notes.append(f"bucket {name}: no BucketSizeBytes in the snapshot, so its cost is unknown")
        if unpriced:
            bucket_notes.append(f"bucket {name}: no price for {', '.join(unpriced)} (left out)")
        expiries = []
        if bucket.lifecycle is not None:
            for k in d["keys"]:
                life = effective_lifecycle(bucket.lifecycle, k, policy.archive_storage_classes)
                if life.expire_days is not None:
                    expiries.append(life.expire_days)
        created = [parse_time(fl["CreationTime"]) for fl in d["flow_logs"] if fl.get("CreationTime")]
        held = [h for h in (max(expiries) if expiries and len(expiries) == len(d["keys"]) else None,
                            age_days(created)) if h is not None]
        accounts = {facts.account(v) for v in d["vpcs"]}
        account = accounts.pop() if len(accounts) == 1 else "?"
        if held and total:
            s3_volume[(account, name)] = total / min(held) * DAYS_PER_MONTH / gb
        elif total:
            bucket_notes.append(f"bucket {name}: no expiry and no flow-log creation time, so its monthly "
                                "delivery is unknown")
        if bucket_notes:
            notes[name] = bucket_notes
    s3_price = _average_prices(s3_volume, prices.vended_logs_to_s3)

    rows = []
    for vpc in facts.vpcs:
        cls = facts.data_class(vpc)
        parts = dict.fromkeys(_PARTS, 0.0)
        dests: dict[tuple, dict] = {}
        vpc_notes: list[str] = []
        for fl, level, dest, key in per_vpc[vpc]:
            entry = dests.setdefault((dest.kind, dest.target), {
                "type": dest.kind, "target": dest.target, "flow_logs": [], "levels": [], "traffic_types": [],
                "retention_days": None, "retention": "set where the stream delivers (not in the snapshot)",
            })
            entry["flow_logs"].append(fl["FlowLogId"])
            for field, value in (("levels", level), ("traffic_types", fl.get("TrafficType") or "?")):
                if value not in entry[field]:
                    entry[field].append(value)
            if dest.kind == CLOUDWATCH_LOGS:
                g = groups[key]["group"]
                if g is None:
                    entry["retention"] = "unknown (the group is not in the snapshot)"
                else:
                    entry["retention_days"] = g.get("retentionInDays")
                    entry["retention"] = (f"{g['retentionInDays']} days" if g.get("retentionInDays")
                                          else "never expires")
            elif dest.kind == S3 and dest.bucket:
                life_cfg = facts.bucket(dest.bucket).lifecycle
                if life_cfg is None:
                    entry["retention"] = "no lifecycle: never expire"
                else:
                    life = effective_lifecycle(life_cfg, facts.object_prefix(dest, fl, vpc),
                                               policy.archive_storage_classes)
                    entry["retention_days"] = life.expire_days
                    entry["retention"] = life.describe() if life.rules else "no lifecycle rule covers it: never expire"
        shared = {}
        for fl, level, dest, key in per_vpc[vpc]:
            if key is None or key in shared:
                continue
            if dest.kind == CLOUDWATCH_LOGS:
                n = len(groups[key]["vpcs"])
                shared[key] = n
                account = next((a for (a, k) in cwl_volume if k == key), None)
                parts["cloudwatch_logs_storage"] += cwl_storage.get(key, 0.0) / n
                if account is not None:
                    parts["cloudwatch_logs_ingestion"] += cwl_volume[(account, key)] * cwl_price[account] / n
            else:
                n = len(buckets[key]["vpcs"])
                shared[key] = n
                account = next((a for (a, k) in s3_volume if k == key), None)
                parts["s3_storage"] += s3_storage.get(key, 0.0) / n
                if account is not None:
                    parts["s3_delivery"] += s3_volume[(account, key)] * s3_price[account] / n
            if n > 1:
                vpc_notes.append(f"{dest.target if dest.kind == S3 else key} is shared by {n} VPCs: "
                                 f"1/{n} of its cost")
            vpc_notes += notes.get(key, [])
        parts = {k: round(v, 6) for k, v in parts.items()}
        rows.append({
            "vpc": vpc, "name": facts.name(vpc), "account": facts.account(vpc), "region": facts.region(vpc),
            "class": cls.name, "class_source": cls.source, "exempt": facts.exempt(vpc),
            "destinations": sorted(dests.values(), key=lambda e: (e["type"], e["target"])),
            "est_monthly_usd": round(sum(parts.values()), 6), "parts": parts,
            "notes": list(dict.fromkeys(vpc_notes)),
        })
    return rows


def _from_ms(ms: int):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
