{#-
title: Top destinations
description: >-
  The destination addresses that received the most bytes in the window, with their flow and packet
  counts. The first question of an investigation: where did the traffic go?
severity: info
tags: [investigation, traffic]
parameters:
  limit:
    type: int
    default: 10
    min: 1
    max: 1000
    description: How many destinations to return.
  action:
    type: enum
    values: [ACCEPT, REJECT, ANY]
    default: ACCEPT
    description: Which records count (ANY counts both accepted and rejected traffic).
semantics: >-
  Records with log-status OK whose partition day is in the window (and action as asked), grouped by
  dstaddr; flows = number of records, packets and bytes summed; ordered by bytes desc, then dstaddr asc.
example:
  limit: 5
  action: ANY
needs:
  fields: [log-status, action, dstaddr, packets, bytes]
-#}
SELECT
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
GROUP BY dstaddr
ORDER BY bytes DESC, dstaddr ASC
LIMIT {{ limit }}
