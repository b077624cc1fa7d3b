"""Baseline for a CloudWatch Logs pull: one paginated FilterLogEvents loop over the whole log group
from a day on, the events counted and dropped.

Usage: cwl_filter.py LOG-GROUP FIRST-DAY
"""

import sys
from datetime import date, datetime, timezone

import boto3

group, first = sys.argv[1], date.fromisoformat(sys.argv[2])
start = int(datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()) * 1000
logs = boto3.client("logs")
n = 0
for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=start):
    n += len(page.get("events", []))
print(n)
