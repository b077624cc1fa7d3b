{#-
title: Large egress to the internet
description: >-
  Private addresses that sent a lot of data to internet addresses: per interface, source and
  destination, the accepted records, packets and bytes, for every pair above a byte threshold.
severity: medium
tags: [investigation, security, egress, exfiltration, cost]
why: >-
  Data leaving for the internet in bulk is how exfiltration looks in flow logs, and it is also the
  most expensive traffic AWS bills (data transfer out, NAT gateway processing). A large transfer to a
  destination nobody can name is worth explaining either way.
remediation: >-
  Identify the destination and the owner of the source (interface-id); confirm the transfer was
  intended (a backup, a partner feed, a software update). Send AWS service traffic through VPC
  endpoints, restrict egress with security groups or AWS Network Firewall to known destinations, and
  treat an unexplained transfer as a possible incident.
parameters:
  min_bytes:
    type: int
    default: 1000000000
    min: 1
    max: 1000000000000000
    description: Only source/destination pairs that sent at least this many bytes (default 1 GB).
semantics: >-
  Records with action ACCEPT and log-status OK in the window whose srcaddr is private (10/8,
  172.16/12, 192.168/16, 100.64/10, 169.254/16, 127/8, fc00::/7, fe80::/10, ::1) and whose dstaddr is
  public (anything else, documentation ranges included), grouped by interface-id, srcaddr, dstaddr.
  Only groups whose bytes >= min_bytes. A transfer through a NAT gateway shows twice: on the sender's
  interface (to the real destination) and on the NAT gateway's. Not counted: IPv6 egress from a
  dual-stack VPC, whose addresses are global (public), not private. Ordered by bytes desc,
  interface_id asc, srcaddr asc, dstaddr asc.
example:
  min_bytes: 100000000
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, packets, bytes]
-#}
WITH pairs AS (
    SELECT
        interface_id,
        srcaddr,
        dstaddr,
        count(*) AS flows,
        sum(packets) AS packets,
        sum(bytes) AS bytes
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND action = 'ACCEPT'
        AND srcaddr IS NOT NULL
        AND dstaddr IS NOT NULL
    GROUP BY interface_id, srcaddr, dstaddr
    HAVING sum(bytes) >= {{ min_bytes }}
),

classified AS (
    -- the CIDR tests run on the pairs left after the threshold: as window function arguments no
    -- optimizer moves them below the GROUP BY, as both engines do with a WHERE on a grouping column
    -- (the tests would then run once per record); one reference to `pairs`, so Athena scans the
    -- table once
    SELECT
        interface_id,
        srcaddr,
        dstaddr,
        flows,
        packets,
        bytes,
        bool_or({{ is_private(col('srcaddr')) }}) OVER (PARTITION BY srcaddr) AS private_source,
        bool_or({{ is_public(col('dstaddr')) }}) OVER (PARTITION BY dstaddr) AS public_destination
    FROM pairs
)

SELECT
    interface_id,
    srcaddr,
    dstaddr,
    flows,
    packets,
    bytes
FROM classified
WHERE private_source AND public_destination
ORDER BY bytes DESC, interface_id ASC, srcaddr ASC, dstaddr ASC
