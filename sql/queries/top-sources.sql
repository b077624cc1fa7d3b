{#-
title: Top sources
description: >-
  The source addresses that sent the most bytes in the window, with their flow and packet counts and
  how many distinct destinations each reached.
severity: info
tags: [investigation, traffic]
parameters:
  limit:
    type: int
    default: 20
    min: 1
    max: 1000
    description: How many sources to return.
  action:
    type: enum
    values: [ACCEPT, REJECT, ANY]
    default: ANY
    description: Which records count (ANY counts both accepted and rejected traffic).
semantics: >-
  Records with log-status OK whose partition day is in the window (and action as asked), grouped by
  srcaddr; flows = number of records, packets and bytes summed, destinations = exact count of distinct
  dstaddr. Ordered by bytes desc (null last), srcaddr asc; the first `limit` rows.
example:
  limit: 5
  action: REJECT
needs:
  fields: [log-status, action, srcaddr, dstaddr, packets, bytes]
-#}
SELECT
    srcaddr,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count(DISTINCT dstaddr) AS destinations
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    {% if action != 'ANY' %}
    AND action = {{ action }}
    {% endif %}
GROUP BY srcaddr
ORDER BY bytes DESC NULLS LAST, srcaddr ASC
LIMIT {{ limit }}
