{#-
title: Traffic from an address
description: >-
  Everything one address sent in the window: per destination, port, protocol and action, the flows,
  packets and bytes and when they were first and last seen.
severity: info
tags: [investigation, traffic, address]
parameters:
  address:
    type: ip
    required: true
    description: The source address (IPv4 or IPv6).
semantics: >-
  Records with log-status OK in the window whose srcaddr is the address (compared as an address,
  whatever its spelling), grouped by dstaddr, dstport, protocol, action; flows = number of records,
  packets and bytes summed, first_seen = smallest start, last_seen = largest end (Unix seconds), and by
  the ECS task whose ENI logged the records: ecs_cluster, ecs_service, ecs_task_id (the ecs-* fields of
  a version 7 format; null where a format lacks them or they are `-`). Ordered by bytes desc (null
  last), dstaddr asc, dstport asc, protocol asc, action asc, then ecs_cluster, ecs_service, ecs_task_id
  asc (null last).
example:
  address: 10.0.1.25
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
-#}
WITH records AS (
    SELECT
        dstaddr,
        dstport,
        protocol,
        action,
        packets,
        bytes,
        start,
        "end" AS end_time,
        {{ column('ecs_cluster_name') }} AS ecs_cluster,
        {{ column('ecs_service_name') }} AS ecs_service,
        {{ column('ecs_task_id') }} AS task_id
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND {{ same_address(col('srcaddr'), address) }}
)

SELECT
    dstaddr,
    dstport,
    protocol,
    action,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max(end_time) AS last_seen,
    ecs_cluster,
    ecs_service,
    task_id AS ecs_task_id
FROM records
GROUP BY dstaddr, dstport, protocol, action, ecs_cluster, ecs_service, task_id
ORDER BY
    bytes DESC NULLS LAST,
    dstaddr ASC,
    dstport ASC,
    protocol ASC,
    action ASC,
    ecs_cluster ASC,
    ecs_service ASC,
    task_id ASC
