{#-
title: Logging gaps
description: >-
  The hours of the window in which an account and region that does deliver flow logs delivered no
  record at all: an outage of the log, of its delivery or of the network, or, on a quiet network, an
  hour without traffic (flow logs write nothing then).
severity: low
tags: [logging-health, audit]
why: >-
  Logging that does not deliver is no evidence: nothing can be shown or ruled out for the hours
  without records, and an auditor asks whether flow logging worked all the time.
remediation: >-
  A run of hours, or a gap in a busy account, is the finding. Check the flow logs of that account
  and region for those hours (DescribeFlowLogs: DeliverLogsStatus and DeliverLogsErrorMessage; the
  bucket policy; the bucket's S3 server access logs or CloudTrail data events) and record the gap and
  its cause with the evidence.
semantics: >-
  For each account and region with at least one record (of any log-status) in the window: the hours
  of the window (every hour of every day from since to until, UTC, that ended before the current hour
  began: an hour under way or to come is none; Unix seconds of the hour's start) in which no record
  of any log-status started (hour of start = start - start % 3600). A record whose
  hour is outside the window (a flow from before midnight delivered in the first day's folder) counts
  for no hour. Ordered by aws_account_id, aws_region, hour. (One read of the table: the hours with
  records and, by a grouping set, one row per account and region standing for the end of the window;
  the hours missing between consecutive rows are the gaps. Trino's sequence() makes at most 10,000
  elements, so a gap is cut into blocks of at most 10,000 hours, each made by its own sequence():
  any window works, a gap of years included.)
columns:
  hour: unix_seconds
needs:
  fields: [start]
-#}
-- `hour` is a keyword to sqlfluff (RF04 when an alias): the CTEs' column lists name it instead
WITH hours (aws_account_id, aws_region, hour) AS (
    -- one read: the hours with records, and per account and region one more row (the grouping set
    -- without the hour) standing for the end of the window, which closes the last gap
    SELECT
        aws_account_id,
        aws_region,
        CASE
            WHEN grouping(start - start % 3600) = 1 THEN {{ window_end_second }}
            ELSE start - start % 3600
        END
    FROM {{ flow_logs }}
    WHERE {{ window() }}
    GROUP BY GROUPING SETS ((aws_account_id, aws_region, start - start % 3600), (aws_account_id, aws_region))
),

bounds (aws_account_id, aws_region, hour, previous) AS (
    SELECT
        aws_account_id,
        aws_region,
        hour,
        lag(hour, 1, {{ window_start_second }} - 3600)
            OVER (PARTITION BY aws_account_id, aws_region ORDER BY hour)
    FROM hours
    WHERE hour >= {{ window_start_second }} AND hour <= {{ window_end_second }}
),

gaps (aws_account_id, aws_region, first_missing, last_missing) AS (
    SELECT
        aws_account_id,
        aws_region,
        previous + 3600,
        hour - 3600
    FROM bounds
    WHERE hour - previous > 3600
),

-- Trino's sequence() stops at 10,000 elements: a gap is cut into blocks of at most 10,000 hours
-- (36,000,000 seconds), and each block's hours are a sequence of their own
blocks (aws_account_id, aws_region, first_missing, last_missing) AS (
    SELECT
        g.aws_account_id,
        g.aws_region,
        g.first_missing + b.offset_seconds,
        least(g.last_missing, g.first_missing + b.offset_seconds + 35996400)
    FROM gaps AS g
    CROSS JOIN unnest(sequence(0, g.last_missing - g.first_missing, 36000000)) AS b (offset_seconds)
)

SELECT
    k.aws_account_id,
    k.aws_region,
    m.hour
FROM blocks AS k
CROSS JOIN unnest(sequence(k.first_missing, k.last_missing, 3600)) AS m (hour)
ORDER BY k.aws_account_id ASC, k.aws_region ASC, m.hour ASC
