{#-
title: Log coverage
description: >-
  Records per account, region and day of the window, of any log-status: which days each account
  and region delivered flow logs at all. The monthly report reads it first: a month without any
  record is not evaluated, and a day, an account or a region that should have logged and did not is
  named.
severity: info
tags: [logging-health, report]
semantics: >-
  Records of any log-status whose partition day is in the window, grouped by aws_account_id,
  aws_region and the partition day (as YYYY-MM-DD, whatever the layout of the partition); records =
  number of records. A day without records has no row. Ordered by aws_account_id, aws_region, day.
-#}
-- the partition day as YYYY-MM-DD: `2025/02/03` plain, `2025/month=02/day=03` Hive-compatible
WITH records AS (
    SELECT
        aws_account_id,
        aws_region,
        replace(replace(replace(day, 'month=', ''), 'day=', ''), '/', '-') AS day_iso
    FROM {{ flow_logs }}
    WHERE {{ window() }}
)

-- the column is `day` as in docs/queries.md, a keyword that Trino does not reserve
SELECT
    aws_account_id,
    aws_region,
    day_iso AS day,  -- noqa: RF04
    count(*) AS records
FROM records
GROUP BY aws_account_id, aws_region, day_iso
ORDER BY aws_account_id ASC, aws_region ASC, day_iso ASC
