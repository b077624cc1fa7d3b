{#-
title: NODATA and SKIPDATA records
description: >-
  Per ENI and hour, the records that carry no flows: NODATA (no traffic in the aggregation
  interval) and SKIPDATA (records dropped for an internal capacity constraint or error).
severity: low
tags: [logging-health, audit]
why: >-
  Logging that does not deliver is no evidence: a SKIPDATA record means flows happened that the log
  does not show, so an investigation of that ENI and hour cannot rule anything out; long runs of
  NODATA on an ENI that should be busy mean its traffic goes elsewhere or is not captured.
remediation: >-
  For SKIPDATA, note the ENI and hours as a gap in the evidence and compare them with the service's
  health; frequent SKIPDATA on one ENI calls for an AWS Support case. For NODATA on a busy ENI, check
  that the flow log covers the traffic expected (its filter is ALL, the ENI is the one that carries it).
semantics: >-
  Records with log-status NODATA or SKIPDATA in the window, grouped by interface-id, hour (start -
  start % 3600, Unix seconds) and log-status. records is the number of records. Ordered by hour asc,
  interface_id asc, log_status asc.
columns:
  hour: unix_seconds
needs:
  fields: [log-status, interface-id, start]
-#}
-- `hour` is a keyword to sqlfluff (RF04 when an alias): the CTE's column list names it instead
WITH counted (interface_id, hour, log_status, records) AS (
    SELECT
        interface_id,
        start - start % 3600,
        log_status,
        count(*)
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status IN ('NODATA', 'SKIPDATA')
    GROUP BY interface_id, start - start % 3600, log_status
)

SELECT
    interface_id,
    hour,
    log_status,
    records
FROM counted
ORDER BY hour ASC, interface_id ASC, log_status ASC
