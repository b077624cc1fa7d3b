{#-
title: Rejected inbound from the internet
description: >-
  Internet addresses whose traffic was turned away: per source, how many rejected records and
  packets, how many of your addresses and ports it tried, and when it was first and last seen.
severity: low
tags: [audit, security, reject, internet]
why: >-
  Rejected traffic from the internet is mostly background scanning, but a source that keeps trying
  many of your addresses or ports is looking for a way in, and its address is worth checking against
  the accepted traffic (traffic-from-address) in case a later attempt got through.
remediation: >-
  Check the top sources against your threat intelligence and against accepted traffic; block
  persistent ones at the network ACL, AWS WAF or AWS Network Firewall, and keep security groups
  closed to everything the internet does not need.
parameters:
  limit:
    type: int
    default: 50
    min: 1
    max: 10000
    description: How many sources to return.
semantics: >-
  Records with action REJECT and log-status OK in the window whose srcaddr is public (none of the
  private, shared, link-local or loopback ranges; documentation ranges count as public), grouped by
  srcaddr. destinations and ports are exact counts of distinct dstaddr and dstport; first_seen and
  last_seen the smallest start and the largest end (Unix seconds). Ordered by flows desc, srcaddr
  asc; the first `limit` rows.
example:
  limit: 20
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, packets, start, end]
-#}
WITH rejected AS (
    SELECT
        srcaddr,
        count(*) AS flows,
        sum(packets) AS packets,
        count(DISTINCT dstaddr) AS destinations,
        count(DISTINCT dstport) AS ports,
        min(start) AS first_seen,
        max("end") AS last_seen
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND action = 'REJECT'
        AND srcaddr IS NOT NULL
    GROUP BY srcaddr
),

classified AS (
    -- the CIDR test runs once per source, on the aggregated rows: as a window function's argument
    -- no optimizer moves it below the GROUP BY, as both engines do with a WHERE on a grouping column
    -- (the test would then run once per record)
    SELECT
        srcaddr,
        flows,
        packets,
        destinations,
        ports,
        first_seen,
        last_seen,
        bool_or({{ is_public(col('srcaddr')) }}) OVER (PARTITION BY srcaddr) AS public_source
    FROM rejected
)

SELECT
    srcaddr,
    flows,
    packets,
    destinations,
    ports,
    first_seen,
    last_seen
FROM classified
WHERE public_source
ORDER BY flows DESC, srcaddr ASC
LIMIT {{ limit }}
