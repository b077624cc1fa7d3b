{#-
title: Top transit gateway attachment pairs
description: >-
  The attachment pairs of each transit gateway that carried the most bytes in the window: which
  VPCs, VPNs and peerings talk through the transit gateway, and how much.
severity: info
tags: [transit-gateway, traffic, cost]
table: tgw
parameters:
  limit:
    type: int
    default: 20
    min: 1
    max: 1000
    description: How many attachment pairs to return.
semantics: >-
  Transit Gateway flow-log records with log-status OK whose partition day is in the window,
  flow-direction ingress (each flow counted once, where it entered the transit gateway) and a
  tgw-pair-attachment-id (the attachment it left by; dropped packets have none), grouped by tgw-id,
  tgw-attachment-id (from_attachment_id) and tgw-pair-attachment-id (to_attachment_id); flows =
  number of records, packets and bytes summed. Ordered by bytes desc (null last), tgw_id asc,
  from_attachment_id asc, to_attachment_id asc; the first `limit` rows.
example:
  limit: 5
needs:
  fields: [log-status, tgw-id, tgw-attachment-id, tgw-pair-attachment-id, flow-direction, packets, bytes]
-#}
SELECT
    tgw_id,
    tgw_attachment_id AS from_attachment_id,
    tgw_pair_attachment_id AS to_attachment_id,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM {{ tgw_flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND flow_direction = 'ingress'
    AND tgw_pair_attachment_id IS NOT NULL
GROUP BY tgw_id, tgw_attachment_id, tgw_pair_attachment_id
ORDER BY bytes DESC NULLS LAST, tgw_id ASC, from_attachment_id ASC, to_attachment_id ASC
LIMIT {{ limit }}
