{#-
title: Rejects by subnet
description: >-
  Rejected traffic per subnet: how many flows, packets and bytes a security group or network ACL
  turned away, and from how many distinct sources. A sudden rise is a scan or a broken rule.
severity: medium
tags: [audit, security, reject]
why: >-
  A subnet whose rejected traffic rises is being scanned, or a security group or network ACL rule
  is breaking traffic that should flow; either is worth knowing before an incident.
remediation: >-
  Look at the top rejected sources and ports of that subnet (rejected-traffic); block persistent
  scanners at the network ACL or AWS WAF, and fix rules that reject expected traffic.
parameters:
  subnet:
    type: subnet_id
    description: Only this subnet (default all subnets).
semantics: >-
  Records with action REJECT and log-status OK in the window. The subnet is the record's subnet-id
  where its log format has one (a `-` counts as absent), else the inventory's SubnetId of the record's
  interface-id, else null. distinct_sources is an exact count of distinct srcaddr. Ordered by
  rejected_flows desc, then subnet_id asc (null last).
example:
  subnet: subnet-0a1b2c3d4e5f60718
needs:
  fields: [log-status, action, interface-id, srcaddr, packets, bytes]
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

rejected AS (
    SELECT
        f.srcaddr,
        f.packets,
        f.bytes,
        coalesce({{ column('subnet_id', 'f') }}, e.subnet_id) AS subnet_id
    FROM {{ flow_logs }} AS f
    LEFT JOIN eni_subnets AS e ON f.interface_id = e.interface_id
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
        AND f.action = 'REJECT'
)

SELECT
    subnet_id,
    count(*) AS rejected_flows,
    sum(packets) AS rejected_packets,
    sum(bytes) AS rejected_bytes,
    count(DISTINCT srcaddr) AS distinct_sources
FROM rejected
{% if subnet %}
WHERE subnet_id = {{ subnet }}
{% endif %}
GROUP BY subnet_id
ORDER BY rejected_flows DESC, subnet_id ASC NULLS LAST
