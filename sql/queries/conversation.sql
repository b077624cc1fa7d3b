{#-
title: Conversation between two addresses
description: >-
  Both directions of one conversation — the requests from src to dst (on the port) and the replies —
  with the ENI that logged each and what it decided, plus how much other traffic each address had:
  the evidence `flowsql diagnose` reads its verdict from.
severity: info
tags: [troubleshooting, diagnose]
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
  Records with log-status OK in the window where src or dst is srcaddr or dstaddr. direction is
  request (srcaddr = src, dstaddr = dst, dstport = port and protocol as given), reply (srcaddr = dst,
  dstaddr = src, srcport = port, protocol as given), else other-src (src is one of the two addresses)
  or other-dst. Grouped by direction, interface_id, action and, for request and reply, protocol, the
  server's port and flow-direction; tcp_flags OR-ed, flows counted, packets and bytes summed,
  first_seen the smallest start, last_seen the largest end; client_port_min and client_port_max
  the smallest and largest client port (request: srcport, reply: dstport; NULL for other traffic).
  Ordered by direction, interface_id, action, protocol, port, flow_direction (NULL last).
example:
  src: 10.0.1.5
  dst: 10.0.2.9
  port: 443
  protocol: tcp
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end]
without:
  flow-direction: >-
    which side of the conversation an ENI is on comes from the inventory (or other traffic) only
  tcp-flags: whether a TCP handshake completed is not known
-#}
WITH records AS (
    SELECT
        f.interface_id,
        f.action,
        f.packets,
        f.bytes,
        f.start,
        f."end" AS end_time,
        CASE
            WHEN
                {{ same_address(col('f.srcaddr'), src) }}
                AND {{ same_address(col('f.dstaddr'), dst) }}
                {% if port is not none %}
                AND f.dstport = {{ port }}
                {% endif %}
                {% if protocol is not none %}
                AND f.protocol = {{ protocol }}
                {% endif %}
                THEN 'request'
            WHEN
                {{ same_address(col('f.srcaddr'), dst) }}
                AND {{ same_address(col('f.dstaddr'), src) }}
                {% if port is not none %}
                AND f.srcport = {{ port }}
                {% endif %}
                {% if protocol is not none %}
                AND f.protocol = {{ protocol }}
                {% endif %}
                THEN 'reply'
            WHEN {{ same_address(col('f.srcaddr'), src) }} OR {{ same_address(col('f.dstaddr'), src) }} THEN 'other-src'
            ELSE 'other-dst'
        END AS direction,
        f.protocol AS record_protocol,
        CASE WHEN {{ same_address(col('f.srcaddr'), dst) }} THEN f.srcport ELSE f.dstport END AS server_port,
        CASE WHEN {{ same_address(col('f.srcaddr'), dst) }} THEN f.dstport ELSE f.srcport END AS client_port,
        {{ column('flow_direction', 'f') }} AS record_flow_direction,
        {{ column('tcp_flags', 'f') }} AS record_tcp_flags
    FROM {{ flow_logs }} AS f
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
        AND (
            {{ same_address(col('f.srcaddr'), src) }} OR {{ same_address(col('f.srcaddr'), dst) }}
            OR {{ same_address(col('f.dstaddr'), src) }} OR {{ same_address(col('f.dstaddr'), dst) }}
        )
),

evidence AS (
    SELECT
        direction,
        interface_id,
        action,
        packets,
        bytes,
        start,
        end_time,
        CASE WHEN direction IN ('request', 'reply') THEN record_protocol END AS protocol,
        CASE WHEN direction IN ('request', 'reply') THEN server_port END AS port,
        CASE WHEN direction IN ('request', 'reply') THEN record_flow_direction END AS flow_direction,
        CASE WHEN direction IN ('request', 'reply') THEN record_tcp_flags END AS tcp_flags,
        CASE WHEN direction IN ('request', 'reply') THEN client_port END AS client_port
    FROM records
)

SELECT
    direction,
    interface_id,
    action,
    protocol,
    port,
    flow_direction,
    bitwise_or_agg(tcp_flags) AS tcp_flags,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max(end_time) AS last_seen,
    min(client_port) AS client_port_min,
    max(client_port) AS client_port_max
FROM evidence
GROUP BY direction, interface_id, action, protocol, port, flow_direction
ORDER BY
    direction ASC,
    interface_id ASC,
    action ASC NULLS LAST,
    protocol ASC NULLS LAST,
    port ASC NULLS LAST,
    flow_direction ASC NULLS LAST
