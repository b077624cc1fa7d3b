{#-
title: Daily traffic
description: >-
  Flows, packets and bytes per day of the window, split into accepted and rejected: the shape of a
  month at a glance, and the day something changed.
severity: info
tags: [traffic, trend, report]
semantics: >-
  Records with log-status OK whose partition day is in the window, grouped by that day (as
  YYYY-MM-DD, whatever the layout of the partition); flows = number of records, packets and bytes
  summed; accepted_* and rejected_* count or sum the records with action ACCEPT and REJECT. Days
  without records have no row. Ordered by day asc.
needs:
  fields: [log-status, action, packets, bytes]
-#}
-- the partition day as YYYY-MM-DD: `2025/02/03` plain, `2025/month=02/day=03` Hive-compatible
WITH records AS (
    SELECT
        action,
        packets,
        bytes,
        replace(replace(replace(day, 'month=', ''), 'day=', ''), '/', '-') AS day_iso
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
)

-- the column is `day` as in docs/queries.md, a keyword that Trino does not reserve
SELECT
    day_iso AS day,  -- noqa: RF04
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count_if(action = 'ACCEPT') AS accepted_flows,
    count_if(action = 'REJECT') AS rejected_flows,
    sum(CASE WHEN action = 'ACCEPT' THEN bytes END) AS accepted_bytes,
    sum(CASE WHEN action = 'REJECT' THEN bytes END) AS rejected_bytes
FROM records
GROUP BY day_iso
ORDER BY day_iso ASC
