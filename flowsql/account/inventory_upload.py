"""`flowsql inventory sync --upload`: the inventory's rows in S3 and the Glue tables over them."""

from __future__ import annotations

from pathlib import Path

from ..engines.athena import defaults
from ..files import dumps_json
from ..inventory.documents import TABLES, load_inventory


def upload_inventory(aws, directory: Path, *, location: str, database: str = defaults.DATABASE) -> dict[str, int]:
    """Put an inventory folder's rows in S3 as JSON lines and register the inventory Glue tables.

    Each table gets one object, `<location><table>/<account>-<region>.json`, so several accounts'
    inventories sit side by side and a new sync of one replaces only its own. The tables
    (`inventory_enis`, …, see glue/tables.yaml) are created, or updated if their definition changed;
    they are flowsql's own, so no `--update` is needed.
    Returns table -> rows uploaded.
    """
    from ..aws import aws_errors, split_s3_uri

    if not location.endswith("/"):
        location += "/"
    bucket, base = split_s3_uri(location, "the inventory location")
    name = f"{aws.account}-{aws.region}"
    inv = load_inventory(directory)
    s3 = aws.client("s3")
    counts: dict[str, int] = {}
    for table in TABLES:
        rows = inv.table(table)
        body = "".join(dumps_json(r, what=f"the {table} rows", ensure_ascii=False, separators=(",", ":")) + "\n"
                       for r in rows)
        key = f"{base}{table}/{name}.json"
        with aws_errors(f"uploading s3://{bucket}/{key}"):
            s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"),
                          ContentType="application/x-ndjson", ServerSideEncryption="AES256")
        counts[table] = len(rows)
    from .provision import ensure_inventory_tables

    ensure_inventory_tables(aws, database, location)
    return counts
