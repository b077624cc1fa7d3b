{#-
title: Lambda egress
description: >-
  Where VPC Lambda functions send traffic: destinations, ports and protocols seen on Lambda's
  Hyperplane ENIs, classified as inside a VPC, private address space or the internet.
severity: medium
tags: [investigation, lambda, egress]
why: >-
  A function's egress is its blast radius: an unexpected internet destination can be exfiltration or
  a compromised dependency, and every byte through the NAT gateway is billed.
remediation: >-
  Confirm each internet destination with the function's owner; route AWS services through VPC
  endpoints, and restrict the functions' security groups (or a network firewall) to the destinations
  they need.
parameters:
  limit:
    type: int
    default: 100
    min: 1
    max: 10000
    description: How many destination/port/protocol rows to return.
semantics: >-
  Records with action ACCEPT and log-status OK in the window, on a Lambda ENI of the inventory
  (InterfaceType lambda, or a Description starting "AWS Lambda VPC ENI"), whose srcaddr is one of that
  ENI's private IPs (traffic the function sent). Grouped by dstaddr, dstport, protocol. destination is
  vpc (inside any IPv4 CidrBlockAssociationSet or associated IPv6 Ipv6CidrBlockAssociationSet block of
  an inventory VPC), private (RFC 1918, 100.64/10,
  169.254/16, 127/8, fc00::/7, fe80::/10, ::1) or internet. Ordered by bytes desc, dstaddr asc,
  dstport asc (then protocol asc, so ties are deterministic).
example:
  limit: 20
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes]
  inventory: [network-interfaces, vpcs]
-#}
WITH lambda_ips AS (
    SELECT DISTINCT
        i.interface_id,
        i.private_ip
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
    WHERE
        e.interface_type = 'lambda'
        OR e.description LIKE 'AWS Lambda VPC ENI%'
),

egress AS (
    SELECT
        f.dstaddr,
        f.dstport,
        f.protocol,
        count(*) AS flows,
        sum(f.packets) AS packets,
        sum(f.bytes) AS bytes
    FROM {{ flow_logs }} AS f
    INNER JOIN lambda_ips AS l
        ON f.interface_id = l.interface_id AND {{ same_address(col('f.srcaddr'), col('l.private_ip')) }}
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
        AND f.action = 'ACCEPT'
    GROUP BY f.dstaddr, f.dstport, f.protocol
),

-- the rows kept first, then their destinations classified: CIDR tests run on `limit` rows only
kept AS (
    SELECT
        dstaddr,
        dstport,
        protocol,
        flows,
        packets,
        bytes
    FROM egress
    ORDER BY bytes DESC, dstaddr ASC, dstport ASC, protocol ASC
    LIMIT {{ limit }}
),

-- a LEFT JOIN on the CIDR test, not a second CTE reading `kept`: Trino does not materialise a WITH
-- query, so every reference to one reads the flow-log table again (and Athena bills it)
classified AS (
    SELECT
        k.dstaddr,
        k.dstport,
        k.protocol,
        k.flows,
        k.packets,
        k.bytes,
        count(c.cidr) > 0 AS in_vpc
    FROM kept AS k
    LEFT JOIN {{ inventory_vpc_cidrs }} AS c ON {{ cidr_contains(col('c.cidr'), col('k.dstaddr')) }}
    GROUP BY k.dstaddr, k.dstport, k.protocol, k.flows, k.packets, k.bytes
)

SELECT
    dstaddr,
    dstport,
    protocol,
    CASE
        WHEN in_vpc THEN 'vpc'
        WHEN {{ is_private(col('dstaddr')) }} THEN 'private'
        ELSE 'internet'
    END AS destination,
    flows,
    packets,
    bytes
FROM classified
ORDER BY bytes DESC, dstaddr ASC, dstport ASC, protocol ASC
