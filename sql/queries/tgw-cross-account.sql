{#-
title: Cross-account traffic through transit gateways
description: >-
  Traffic between VPCs of different accounts through a transit gateway, by source and destination
  account and VPC: what crosses an account boundary, and how much.
severity: info
tags: [transit-gateway, traffic, organization]
table: tgw
parameters:
  limit:
    type: int
    default: 50
    min: 1
    max: 1000
    description: How many VPC pairs to return.
semantics: >-
  Transit Gateway flow-log records with log-status OK whose partition day is in the window,
  flow-direction ingress (each flow counted once) whose tgw-src-vpc-account-id and
  tgw-dst-vpc-account-id are both given and differ, grouped by those and tgw-src-vpc-id,
  tgw-dst-vpc-id; flows = number of records, packets and bytes summed. Ordered by bytes desc (null
  last), src_account_id, src_vpc_id, dst_account_id, dst_vpc_id asc (null last); the first `limit`
  rows.
example:
  limit: 10
needs:
  fields: [log-status, flow-direction, tgw-src-vpc-account-id, tgw-dst-vpc-account-id, tgw-src-vpc-id,
           tgw-dst-vpc-id, packets, bytes]
-#}
SELECT
    tgw_src_vpc_account_id AS src_account_id,
    tgw_src_vpc_id AS src_vpc_id,
    tgw_dst_vpc_account_id AS dst_account_id,
    tgw_dst_vpc_id AS dst_vpc_id,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM {{ tgw_flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND flow_direction = 'ingress'
    AND tgw_src_vpc_account_id IS NOT NULL
    AND tgw_dst_vpc_account_id IS NOT NULL
    AND tgw_src_vpc_account_id <> tgw_dst_vpc_account_id
GROUP BY tgw_src_vpc_account_id, tgw_src_vpc_id, tgw_dst_vpc_account_id, tgw_dst_vpc_id
ORDER BY
    bytes DESC NULLS LAST, src_account_id ASC, src_vpc_id ASC NULLS LAST, dst_account_id ASC,
    dst_vpc_id ASC NULLS LAST
LIMIT {{ limit }}
