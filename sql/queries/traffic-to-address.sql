{#-
title: Traffic to an address
description: >-
  Everything one address received in the window: per source, port, protocol and action, the flows,
  packets and bytes and when they were first and last seen.
severity: info
tags: [investigation, traffic, address]
parameters:
  address:
    type: ip
    required: true
    description: The destination address (IPv4 or IPv6).
semantics: >-
  Records with log-status OK in the window whose dstaddr is the address (compared as an address,
  whatever its spelling), grouped by srcaddr, dstport, protocol, action; flows = number of records,
  packets and bytes summed, first_seen = smallest start, last_seen = largest end (Unix seconds). Ordered
  by bytes desc (null last), srcaddr asc, dstport asc, protocol asc, action asc.
example:
  address: 10.0.1.25
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
-#}
SELECT
    srcaddr,
    dstport,
    protocol,
    action,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max("end") AS last_seen
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND {{ same_address(col('dstaddr'), address) }}
GROUP BY srcaddr, dstport, protocol, action
ORDER BY bytes DESC NULLS LAST, srcaddr ASC, dstport ASC, protocol ASC, action ASC
