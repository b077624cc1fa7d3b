"""Baseline for a re-pull: list the prefixes of a window as `flowsql pull` does (the account and
region folders, then each day), with plain boto3 and nothing else.

Usage: s3_list.py BUCKET FIRST-DAY DAYS
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import boto3
from botocore.config import Config

bucket, first, days = sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3])
s3 = boto3.client("s3", config=Config(max_pool_connections=14))


def folders(prefix):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out


def keys(prefix):
    return sum(len(page.get("Contents", [])) for page in
               s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))


accounts = folders("AWSLogs/")
regions = [r for a in accounts for r in folders(a + "vpcflowlogs/")]
prefixes = [f"{r}{first + timedelta(days=i):%Y/%m/%d}/" for r in regions for i in range(days)]
with ThreadPoolExecutor(10) as pool:
    print(sum(pool.map(keys, prefixes)))
