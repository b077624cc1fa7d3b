{#-
title: Top subnets
description: >-
  The subnets that carried the most bytes in the window: how many interfaces logged traffic in each,
  with flow, packet and byte counts and how many flows were rejected.
severity: info
tags: [investigation, traffic, subnet]
parameters:
  limit:
    type: int
    default: 20
    min: 1
    max: 1000
    description: How many subnets to return.
semantics: >-
  Records with log-status OK in the window, accepted and rejected. The subnet of a record is its
  subnet-id where its log format has one (a `-` counts as absent), else the inventory's SubnetId of its
  interface-id, else null; grouped by it. interfaces = exact count of distinct interface-id, flows =
  number of records, packets and bytes summed, rejected_flows = records with action REJECT. Ordered by
  bytes desc (null last), subnet_id asc (null last); the first `limit` rows.
example:
  limit: 5
needs:
  fields: [log-status, action, interface-id, packets, bytes]
without:
  network-interfaces: >-
    subnets come only from the records' subnet-id field (custom formats with v3 fields); records
    without one count under a null subnet
-#}
WITH eni_subnets AS (
    -- one row per ENI, so a duplicated inventory entry cannot double count
    SELECT
        interface_id,
        max(subnet_id) AS subnet_id
    FROM {{ inventory_enis }}
    GROUP BY interface_id
),

records AS (
    SELECT
        f.interface_id,
        f.action,
        f.packets,
        f.bytes,
        coalesce({{ column('subnet_id', 'f') }}, e.subnet_id) AS subnet_id
    FROM {{ flow_logs }} AS f
    LEFT JOIN eni_subnets AS e ON f.interface_id = e.interface_id
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
)

SELECT
    subnet_id,
    count(DISTINCT interface_id) AS interfaces,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count_if(action = 'REJECT') AS rejected_flows
FROM records
GROUP BY subnet_id
ORDER BY bytes DESC NULLS LAST, subnet_id ASC NULLS LAST
LIMIT {{ limit }}
