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
  of the window (every hour of every day from since to until, UTC; Unix seconds of the hour's start)
  in which no record of any log-status started (hour of start = start - start % 3600). A record whose
  hour is outside the window (a flow from before midnight delivered in the first day's folder) counts
  for no hour. Ordered by aws_account_id, aws_region, hour.
needs:
  fields: [start]
-#}
-- `hour` is a keyword to sqlfluff (RF04 when an alias): the CTEs' column lists name it instead
WITH seen (aws_account_id, aws_region, hour) AS (
    -- one scan: the hours with records, per account and region (NULL hour: a record without start)
    SELECT
        aws_account_id,
        aws_region,
        start - start % 3600
    FROM {{ flow_logs }}
    WHERE {{ window() }}
    GROUP BY aws_account_id, aws_region, start - start % 3600
),

logging AS (
    SELECT DISTINCT
        aws_account_id,
        aws_region
    FROM seen
),

-- every hour of the window: days times hours, so that Trino's sequence() stays far below its limit
-- of 10,000 elements for any window
window_hours (hour) AS (
    SELECT d.day_start + 3600 * h.hour_of_day
    FROM unnest(sequence({{ window_start_second }}, {{ window_end_second }} - 86400, 86400)) AS d (day_start)
    CROSS JOIN unnest(sequence(0, 23)) AS h (hour_of_day)
)

SELECT
    l.aws_account_id,
    l.aws_region,
    w.hour
FROM logging AS l
CROSS JOIN window_hours AS w
LEFT JOIN seen AS s
    ON l.aws_account_id = s.aws_account_id AND l.aws_region = s.aws_region AND w.hour = s.hour
WHERE s.hour IS NULL
ORDER BY l.aws_account_id ASC, l.aws_region ASC, w.hour ASC
