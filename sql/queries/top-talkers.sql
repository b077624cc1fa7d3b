{#-
title: Top talkers
description: >-
  The source and destination pairs that exchanged the most bytes in the window, with their flow and
  packet counts: who talks to whom the most.
severity: info
tags: [investigation, traffic]
parameters:
  limit:
    type: int
    default: 20
    min: 1
    max: 1000
    description: How many source/destination pairs to return.
  action:
    type: enum
    values: [ACCEPT, REJECT, ANY]
    default: ANY
    description: Which records count (ANY counts both accepted and rejected traffic).
semantics: >-
  Records with log-status OK whose partition day is in the window (and action as asked), grouped by
  srcaddr, dstaddr; flows = number of records, packets and bytes summed. Ordered by bytes desc (null
  last), srcaddr asc, dstaddr asc; the first `limit` rows.
example:
  limit: 5
  action: ACCEPT
needs:
  fields: [log-status, action, srcaddr, dstaddr, packets, bytes]
-#}
SELECT
    srcaddr,
    dstaddr,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    {% if action != 'ANY' %}
    AND action = {{ action }}
    {% endif %}
GROUP BY srcaddr, dstaddr
ORDER BY bytes DESC NULLS LAST, srcaddr ASC, dstaddr ASC
LIMIT {{ limit }}
