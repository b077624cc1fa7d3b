{#-
title: Address first and last seen
description: >-
  When and where one address was seen in the window: per network interface that logged it, the first
  and last time, the flows and bytes it sent and received, and how many flows were rejected.
severity: info
tags: [investigation, traffic, address]
parameters:
  address:
    type: ip
    required: true
    description: The address to look for as source or destination (IPv4 or IPv6).
semantics: >-
  Records with log-status OK in the window whose srcaddr or dstaddr is the address (compared as
  an address, whatever its spelling), grouped by interface-id. first_seen = smallest start,
  last_seen = largest end (Unix seconds); flows_out / bytes_out count and sum the records whose srcaddr
  is the address, flows_in / bytes_in those whose dstaddr is (a record from the address to itself counts
  in both; a byte sum is null when no record or only `-` values count); rejected_flows = records with
  action REJECT. Ordered by first_seen asc, interface_id asc.
example:
  address: 10.0.1.25
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, bytes, start, end]
-#}
SELECT
    interface_id,
    min(start) AS first_seen,
    max("end") AS last_seen,
    count_if({{ same_address(col('srcaddr'), address) }}) AS flows_out,
    count_if({{ same_address(col('dstaddr'), address) }}) AS flows_in,
    sum(CASE WHEN {{ same_address(col('srcaddr'), address) }} THEN bytes END) AS bytes_out,
    sum(CASE WHEN {{ same_address(col('dstaddr'), address) }} THEN bytes END) AS bytes_in,
    count_if(action = 'REJECT') AS rejected_flows
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND ({{ same_address(col('srcaddr'), address) }} OR {{ same_address(col('dstaddr'), address) }})
GROUP BY interface_id
ORDER BY first_seen ASC, interface_id ASC
