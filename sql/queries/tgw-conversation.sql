{#-
title: Conversation through transit gateways
description: >-
  Both directions of one conversation as the transit gateways recorded them: per attachment and
  direction, the packets that went through and those the transit gateway dropped, and why. What
  `flowsql diagnose` reads besides the VPC flow logs: a drop for no route or a blackhole route is
  a cause that no VPC flow log shows.
severity: info
tags: [transit-gateway, troubleshooting, diagnose]
table: tgw
parameters:
  src:
    type: ip
    required: true
    description: The client, which sends the request.
  dst:
    type: ip
    required: true
    description: The server, to which the request goes.
  port:
    type: port
    description: The server's port (default any).
  protocol:
    type: protocol
    description: tcp, udp, icmp, icmpv6 or an IP protocol number (default any).
semantics: >-
  Transit Gateway flow-log records with log-status OK in the window that are the request (srcaddr =
  src, dstaddr = dst, dstport = port and protocol as given) or the reply (srcaddr = dst, dstaddr =
  src, srcport = port, protocol as given). Grouped by direction, tgw-id, tgw-attachment-id and
  flow-direction; flows counted, packets and bytes summed, each packets-lost-* field summed (NULL
  when no record has it), first_seen the smallest start, last_seen the largest end. Ordered by
  direction, tgw_id, tgw_attachment_id, flow_direction (NULL last).
example:
  src: 10.0.1.5
  dst: 10.0.2.9
  port: 443
  protocol: tcp
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, tgw-id, tgw-attachment-id, flow-direction, srcaddr, dstaddr, srcport, dstport, protocol,
           packets, bytes, start, end, packets-lost-no-route, packets-lost-blackhole, packets-lost-mtu-exceeded,
           packets-lost-ttl-expired]
-#}
WITH records AS (
    SELECT
        t.tgw_id,
        t.tgw_attachment_id,
        t.flow_direction,
        t.packets,
        t.bytes,
        t.start,
        t."end" AS end_time,
        t.packets_lost_no_route,
        t.packets_lost_blackhole,
        t.packets_lost_mtu_exceeded,
        t.packets_lost_ttl_expired,
        CASE
            WHEN
                {{ same_address(col('t.srcaddr'), src) }}
                AND {{ same_address(col('t.dstaddr'), dst) }}
                {% if port is not none %}
                AND t.dstport = {{ port }}
                {% endif %}
                THEN 'request'
            WHEN
                {{ same_address(col('t.srcaddr'), dst) }}
                AND {{ same_address(col('t.dstaddr'), src) }}
                {% if port is not none %}
                AND t.srcport = {{ port }}
                {% endif %}
                THEN 'reply'
        END AS direction
    FROM {{ tgw_flow_logs }} AS t
    WHERE
        {{ window('t') }}
        AND t.log_status = 'OK'
        {% if protocol is not none %}
        AND t.protocol = {{ protocol }}
        {% endif %}
        AND (
            ({{ same_address(col('t.srcaddr'), src) }} AND {{ same_address(col('t.dstaddr'), dst) }})
            OR ({{ same_address(col('t.srcaddr'), dst) }} AND {{ same_address(col('t.dstaddr'), src) }})
        )
)

SELECT
    direction,
    tgw_id,
    tgw_attachment_id,
    flow_direction,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    sum(packets_lost_no_route) AS packets_lost_no_route,
    sum(packets_lost_blackhole) AS packets_lost_blackhole,
    sum(packets_lost_mtu_exceeded) AS packets_lost_mtu_exceeded,
    sum(packets_lost_ttl_expired) AS packets_lost_ttl_expired,
    min(start) AS first_seen,
    max(end_time) AS last_seen
FROM records
WHERE direction IS NOT NULL
GROUP BY direction, tgw_id, tgw_attachment_id, flow_direction
ORDER BY direction ASC, tgw_id ASC, tgw_attachment_id ASC, flow_direction ASC NULLS LAST
