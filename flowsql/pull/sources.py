"""Where a pull reads from: `--bucket BUCKET[/PREFIX]`, `--log-group NAME`, or — with neither — every
flow log of the account that publishes to S3 or CloudWatch Logs, found as `flowsql setup` finds them
(DescribeFlowLogs in each region asked for)."""

from __future__ import annotations

from ..account.discovery import (_is_transit_gateway, describe_s3_flow_logs, normalise_prefix,
                                 parse_destination_arn)
from ..aws import split_s3_uri
from ..errors import AwsError, FormatError, UsageError
from ..logs.fields import parse_log_format
from .cloudwatch import LogGroupSource
from .s3 import S3Source


def parse_bucket(text: str) -> S3Source:
    """`BUCKET[/PREFIX]` or `s3://BUCKET[/PREFIX]`; PREFIX is the part above `AWSLogs/` (a trailing
    `AWSLogs` is taken off)."""
    t = (text or "").strip()
    uri = t if t.startswith("s3://") else f"s3://{t}"
    bucket, prefix = split_s3_uri(uri, "--bucket")
    if len(bucket) < 3 or len(bucket) > 255:
        raise UsageError(f"--bucket {text!r}: a bucket name has 3 to 63 characters")
    return S3Source(bucket, normalise_prefix(prefix))


def discover_sources(aws, regions: list[str], accounts: tuple[str, ...]) -> tuple[list, list[str]]:
    """The sources of every flow log of the account in `regions` that publishes to S3 or CloudWatch
    Logs, and notes on what was left out (Firehose destinations, Transit Gateway flow logs) or worth
    knowing (a resource logged to two destinations: its records are pulled twice)."""
    notes: list[str] = []
    by_place: dict[tuple[str, str], set[str]] = {}
    groups: dict[tuple[str, str], dict] = {}
    destinations: dict[str, set[str]] = {}
    for region in regions:
        for fl in describe_s3_flow_logs(aws, region):
            kind = fl.get("LogDestinationType") or ("cloud-watch-logs" if fl.get("LogGroupName") else "")
            fid = fl.get("FlowLogId", "?")
            if _is_transit_gateway(fl):
                notes.append(f"left out flow log {fid} of {fl.get('ResourceId', '?')}: a Transit Gateway flow log, "
                             "which pull does not copy (`aws s3 sync` its files into the tree: the local engine "
                             "reads them into tgw_flow_logs)")
                continue
            if kind == "s3" and fl.get("LogDestination"):
                try:
                    bucket, prefix = parse_destination_arn(fl["LogDestination"])
                except AwsError as e:
                    notes.append(f"left out flow log {fid}: {e}")
                    continue
                by_place.setdefault((bucket, prefix), set()).add(region)
                destinations.setdefault(fl.get("ResourceId", fid), set()).add(f"s3://{bucket}/{prefix}")
            elif kind == "cloud-watch-logs" and fl.get("LogGroupName"):
                try:
                    fmt = parse_log_format(fl.get("LogFormat"))
                except FormatError as e:
                    notes.append(f"left out flow log {fid}: its {e}")
                    continue
                g = groups.setdefault((region, fl["LogGroupName"]), {"formats": {}, "ids": []})
                g["formats"].setdefault(fmt.names, fmt)
                g["ids"].append(fid)
                destinations.setdefault(fl.get("ResourceId", fid), set()).add(f"logs:{region}:{fl['LogGroupName']}")
            else:
                notes.append(f"left out flow log {fid} of {fl.get('ResourceId', '?')}: it publishes to "
                             f"{kind or 'an unknown destination'}, which flowsql pull does not read")
    sources: list = []
    own = accounts or (aws.account,)
    for (bucket, prefix), rs in sorted(by_place.items()):
        sources.append(S3Source(bucket, prefix, accounts=tuple(own), regions=tuple(sorted(rs))))
    for (region, name), g in sorted(groups.items()):
        formats = list(g["formats"].values())
        # several formats into one group: resolve_group() reads DescribeFlowLogs again and says which
        fmt = formats[0] if len(formats) == 1 else None
        sources.append(LogGroupSource(name, region, fmt, tuple(sorted(g["ids"]))))
    for resource, where in sorted(destinations.items()):
        if len(where) > 1:
            notes.append(f"{resource} is logged to {len(where)} destinations ({', '.join(sorted(where))}): "
                         "the pulled tree holds its records once per destination")
    if not sources:
        raise UsageError(f"no flow log of account {aws.account} in {', '.join(regions)} publishes to S3 or "
                         "CloudWatch Logs; pass --bucket or --log-group")
    return sources, notes
