{#-
title: Top interfaces
description: >-
  The network interfaces (ENIs) that carried the most bytes in the window, with their subnet, flow
  and packet counts and how many of their flows were rejected.
severity: info
tags: [investigation, traffic, eni]
parameters:
  limit:
    type: int
    default: 20
    min: 1
    max: 1000
    description: How many interfaces to return.
semantics: >-
  Records with log-status OK in the window, accepted and rejected, grouped by interface-id; flows =
  number of records, packets and bytes summed, rejected_flows = records with action REJECT. subnet_id
  is the record's subnet-id where its log format has one (a `-` counts as absent), else the inventory's
  SubnetId of the interface, else null; the largest when an interface's records disagree. Ordered by
  bytes desc (null last), interface_id asc; the first `limit` rows.
example:
  limit: 5
needs:
  fields: [log-status, action, interface-id, packets, bytes]
without:
  network-interfaces: >-
    subnets come only from the records' subnet-id field (custom formats with v3 fields); interfaces
    without one have a null subnet
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
    interface_id,
    max(subnet_id) AS subnet_id,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count_if(action = 'REJECT') AS rejected_flows
FROM records
GROUP BY interface_id
ORDER BY bytes DESC NULLS LAST, interface_id ASC
LIMIT {{ limit }}
