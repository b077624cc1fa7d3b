{#-
title: Rejected traffic
description: >-
  The conversations security groups and network ACLs turned away: rejected records per source,
  destination, destination port and protocol, most frequent first. Where rejects-by-subnet says how
  much, this says who knocked on which door.
severity: info
tags: [investigation, security, reject]
parameters:
  limit:
    type: int
    default: 50
    min: 1
    max: 10000
    description: How many source/destination/port/protocol rows to return.
semantics: >-
  Records with action REJECT and log-status OK in the window, grouped by srcaddr, dstaddr, dstport,
  protocol; flows = number of records, packets and bytes summed. Ordered by flows desc, srcaddr asc,
  dstaddr asc, dstport asc (null last), protocol asc; the first `limit` rows.
example:
  limit: 20
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, protocol, packets, bytes]
-#}
SELECT
    srcaddr,
    dstaddr,
    dstport,
    protocol,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND action = 'REJECT'
GROUP BY srcaddr, dstaddr, dstport, protocol
ORDER BY flows DESC, srcaddr ASC, dstaddr ASC, dstport ASC NULLS LAST, protocol ASC
LIMIT {{ limit }}
