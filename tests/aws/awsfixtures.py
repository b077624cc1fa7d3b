"""Arranging AWS state in the moto server with plain boto3: VPCs, flow logs, log objects."""

from __future__ import annotations

import gzip
import io
from datetime import date, datetime

from flowsql.logs.layout import day_prefix, file_name

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CUSTOM_FORMAT = "${version} ${vpc-id} ${subnet-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} " \
                "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction}"


# -- arranging flow logs ----------------------------------------------------------------------

def make_vpc(boto) -> str:
    return boto.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def make_flow_log(boto, bucket: str, prefix: str = "", log_format: str | None = None, resource: str | None = None,
                  create_bucket: bool = True, options: dict | None = None) -> str:
    """An S3 flow log. A `prefix` or `options` (DestinationOptions) need the `proxy` fixture: moto
    refuses a LogDestination with a key prefix and drops DestinationOptions."""
    if create_bucket:
        boto.s3.create_bucket(Bucket=bucket)
    resource = resource or make_vpc(boto)
    kw = {"LogFormat": log_format} if log_format else {}
    if options:
        kw["DestinationOptions"] = options
    dest = f"arn:aws:s3:::{bucket}" + (f"/{prefix}" if prefix else "")
    resp = boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[resource], TrafficType="ALL",
                                     LogDestinationType="s3", LogDestination=dest, **kw)
    assert not resp["Unsuccessful"], resp["Unsuccessful"]
    return resp["FlowLogIds"][0]


def log_key(prefix: str, account: str, region: str, day: date, flow_log_id: str, *, hive=False, hour=None,
            parquet=False) -> str:
    when = datetime(day.year, day.month, day.day, hour or 0, 5)
    name = file_name(account, region, flow_log_id, when, "abcd1234", parquet=parquet)
    return (f"{prefix}/" if prefix else "") + day_prefix(account, region, day, hive=hive, hour=hour) + name


def put_text_log(boto, bucket: str, key: str, header: str, records: list[str] = ()) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(("\n".join([header, *records]) + "\n").encode())
    boto.s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())


def parquet_bytes(columns: dict[str, str], tmp_path) -> bytes:
    """A small Parquet file with these (column -> DuckDB type) columns, as AWS writes them."""
    import duckdb

    path = tmp_path / "sample.parquet"
    select = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
    duckdb.connect().execute(f"COPY (SELECT {select} FROM range(3)) TO '{path}' (FORMAT parquet)")
    return path.read_bytes()
