{#-
title: NAT gateway egress
description: >-
  Which internal hosts send traffic out through the NAT gateways, to which real destinations, ports
  and protocols: the NAT gateway's ENI sees every packet before it is translated.
severity: info
tags: [investigation, nat, egress, cost]
parameters:
  limit:
    type: int
    default: 100
    min: 1
    max: 10000
    description: How many source/destination/port/protocol rows to return.
semantics: >-
  Records with action ACCEPT and log-status OK in the window, on a NAT gateway ENI of the inventory
  (InterfaceType nat_gateway), whose dstaddr is one of that ENI's addresses and whose srcaddr is
  private (an internal host's packets arriving to be translated). Grouped by srcaddr, pkt-dstaddr,
  dstport, protocol. nat_interface_id is the smallest interface-id of the group; destination is
  pkt-dstaddr, the real destination (null where the log format lacks the field). Ordered by bytes
  desc, source asc, destination asc (null last), dstport asc, protocol asc.
example:
  limit: 20
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes]
  inventory: [network-interfaces]
without:
  pkt-dstaddr: >-
    the destination beyond the NAT gateway is unknown without it (destination is null); a custom
    log format with pkt-dstaddr (v3) names it
-#}
WITH nat_ips AS (
    SELECT DISTINCT
        i.interface_id,
        i.private_ip
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
    WHERE e.interface_type = 'nat_gateway'
),

-- `source` is a keyword to sqlfluff (RF04 when an alias): the column list names it instead
arriving (source, destination, dstport, protocol, nat_interface_id, flows, packets, bytes) AS (
    SELECT
        f.srcaddr,
        {{ column('pkt_dstaddr', 'f') }},
        f.dstport,
        f.protocol,
        min(f.interface_id),
        count(*),
        sum(f.packets),
        sum(f.bytes)
    FROM {{ flow_logs }} AS f
    INNER JOIN nat_ips AS n
        ON f.interface_id = n.interface_id AND {{ same_address(col('f.dstaddr'), col('n.private_ip')) }}
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
        AND f.action = 'ACCEPT'
    GROUP BY f.srcaddr, {{ column('pkt_dstaddr', 'f') }}, f.dstport, f.protocol
),

-- the private-source test on the grouped rows, in a window so that `arriving` is read once (Trino
-- does not materialise a WITH query: each reference would read the flow-log table again) and so that
-- DuckDB does not push it down into the scan of every record
classified AS (
    SELECT
        a.nat_interface_id,
        a.source,
        a.destination,
        a.dstport,
        a.protocol,
        a.flows,
        a.packets,
        a.bytes,
        bool_or({{ is_private(col('a.source')) }}) OVER (PARTITION BY a.source) AS private_source
    FROM arriving AS a
)

SELECT
    nat_interface_id,
    source,
    destination,
    dstport,
    protocol,
    flows,
    packets,
    bytes
FROM classified
WHERE private_source
ORDER BY
    bytes DESC, source ASC, destination ASC NULLS LAST, dstport ASC, protocol ASC
LIMIT {{ limit }}
