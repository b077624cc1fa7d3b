{#-
title: Packets lost at the transit gateway
description: >-
  Per transit gateway and attachment, the packets the transit gateway dropped and why: no route to
  the destination, a blackhole route, larger than the path's MTU, TTL expired. VPC flow logs cannot
  show these drops: the packets left the ENI accepted and were lost beyond it.
severity: info
tags: [transit-gateway, troubleshooting, routing]
table: tgw
parameters:
  limit:
    type: int
    default: 50
    min: 1
    max: 1000
    description: How many attachments to return.
semantics: >-
  Transit Gateway flow-log records with log-status OK whose partition day is in the window, grouped
  by tgw-id, tgw-attachment-id (the attachment the packets came in by). Each packets-lost-* field is
  summed (NULL when no record of the group has it); packets_lost is the sum over the records of the
  four fields (a `-` counts 0) and flows_with_loss the number of records where it is above 0. Only
  groups with packets_lost above 0. Ordered by packets_lost desc, tgw_id asc, tgw_attachment_id asc;
  the first `limit` rows.
example:
  limit: 10
needs:
  fields: [log-status, tgw-id, tgw-attachment-id, packets-lost-no-route, packets-lost-blackhole,
           packets-lost-mtu-exceeded, packets-lost-ttl-expired]
-#}
SELECT
    tgw_id,
    tgw_attachment_id,
    sum(packets_lost_no_route) AS packets_lost_no_route,
    sum(packets_lost_blackhole) AS packets_lost_blackhole,
    sum(packets_lost_mtu_exceeded) AS packets_lost_mtu_exceeded,
    sum(packets_lost_ttl_expired) AS packets_lost_ttl_expired,
    sum(
        coalesce(packets_lost_no_route, 0) + coalesce(packets_lost_blackhole, 0)
        + coalesce(packets_lost_mtu_exceeded, 0) + coalesce(packets_lost_ttl_expired, 0)
    ) AS packets_lost,
    sum(
        CASE
            WHEN
                coalesce(packets_lost_no_route, 0) + coalesce(packets_lost_blackhole, 0)
                + coalesce(packets_lost_mtu_exceeded, 0) + coalesce(packets_lost_ttl_expired, 0) > 0
                THEN 1
            ELSE 0
        END
    ) AS flows_with_loss
FROM {{ tgw_flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
GROUP BY tgw_id, tgw_attachment_id
HAVING
    sum(
        coalesce(packets_lost_no_route, 0) + coalesce(packets_lost_blackhole, 0)
        + coalesce(packets_lost_mtu_exceeded, 0) + coalesce(packets_lost_ttl_expired, 0)
    ) > 0
ORDER BY packets_lost DESC, tgw_id ASC, tgw_attachment_id ASC
LIMIT {{ limit }}
