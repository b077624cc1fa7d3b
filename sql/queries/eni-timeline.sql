{#-
title: ENI timeline
description: >-
  One network interface hour by hour: flows, packets and bytes per hour in the window, with how many
  flows were accepted and rejected. When did it start, stop, or change?
severity: info
tags: [investigation, traffic, eni]
parameters:
  eni:
    type: eni_id
    required: true
    description: The network interface (eni-…) to follow.
semantics: >-
  Records with log-status OK in the window whose interface-id is the ENI, grouped by hour = start -
  start % 3600 (Unix seconds of the hour's start, UTC); flows = number of records, packets and bytes
  summed, accepted_flows and rejected_flows = records with action ACCEPT and REJECT. Ordered by hour
  asc.
example:
  eni: eni-0a1b2c3d4e5f60718
columns:
  hour: unix_seconds
needs:
  fields: [log-status, action, interface-id, packets, bytes, start]
-#}
-- the hour is computed in a CTE, so a per-hour table's own `hour` partition column cannot capture it
WITH records AS (
    SELECT
        action,
        packets,
        bytes,
        start - start % 3600 AS hour_start
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND interface_id = {{ eni }}
)

-- the column is `hour` as in docs/queries.md, a keyword that Trino does not reserve
SELECT
    hour_start AS hour,  -- noqa: RF04
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count_if(action = 'ACCEPT') AS accepted_flows,
    count_if(action = 'REJECT') AS rejected_flows
FROM records
GROUP BY hour_start
ORDER BY hour_start ASC
