{#-
title: ECS service traffic
description: >-
  What ECS tasks sent, per cluster, service and task definition: bytes and flows to the internet,
  inside a VPC, to private address space and to AWS services, from the ecs-* fields of version 7
  flow logs.
severity: info
tags: [investigation, ecs, egress, cost]
semantics: >-
  Records with log-status OK, action ACCEPT and flow-direction egress in the window that name an ECS
  cluster (ecs-cluster-name; `-` counts as absent, as in a format without the field or a flow log that
  cannot read ECS), grouped by ecs-cluster-name, ecs-service-name (null for a task no service
  started), ecs-task-definition-arn and destination. destination is aws-service (the record has a
  pkt-dst-aws-service), else vpc (dstaddr inside any IPv4 CidrBlockAssociationSet or associated IPv6
  Ipv6CidrBlockAssociationSet block of an inventory VPC), else private (RFC 1918, 100.64/10,
  169.254/16, 127/8, fc00::/7, fe80::/10, ::1), else internet. task_count is an exact count of distinct
  ecs-task-arn. Ordered by bytes desc, ecs_cluster asc, ecs_service asc (null last),
  ecs_task_definition asc, destination asc.
needs:
  fields: [log-status, action, flow-direction, dstaddr, packets, bytes]
  inventory: [vpcs]
without:
  ecs-cluster-name: >-
    their records name no ECS task (a version 7 format with the ecs-* fields does), so they add
    nothing here
-#}
WITH records AS (
    SELECT
        {{ column('ecs_cluster_name') }} AS ecs_cluster,
        {{ column('ecs_service_name') }} AS ecs_service,
        {{ column('ecs_task_definition_arn') }} AS ecs_task_definition,
        {{ column('ecs_task_arn') }} AS ecs_task,
        {{ column('pkt_dst_aws_service') }} AS aws_service,
        dstaddr,
        packets,
        bytes
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND action = 'ACCEPT'
        AND flow_direction = 'egress'
        AND {{ column('ecs_cluster_name') }} IS NOT NULL
),

sent AS (
    SELECT
        ecs_cluster,
        ecs_service,
        ecs_task_definition,
        ecs_task,
        aws_service,
        dstaddr,
        count(*) AS flows,
        sum(packets) AS packets,
        sum(bytes) AS bytes
    FROM records
    GROUP BY ecs_cluster, ecs_service, ecs_task_definition, ecs_task, aws_service, dstaddr
),

-- a LEFT JOIN on the CIDR test, not a second CTE reading `sent`: Trino does not materialise a WITH
-- query, so every reference to one reads the flow-log table again (and Athena bills it)
classified AS (
    SELECT
        s.ecs_cluster,
        s.ecs_service,
        s.ecs_task_definition,
        s.ecs_task,
        s.aws_service,
        s.dstaddr,
        s.flows,
        s.packets,
        s.bytes,
        count(c.cidr) > 0 AS in_vpc
    FROM sent AS s
    LEFT JOIN {{ inventory_vpc_cidrs }} AS c ON {{ cidr_contains(col('c.cidr'), col('s.dstaddr')) }}
    GROUP BY
        s.ecs_cluster, s.ecs_service, s.ecs_task_definition, s.ecs_task, s.aws_service, s.dstaddr, s.flows,
        s.packets, s.bytes
),

labelled AS (
    SELECT
        ecs_cluster,
        ecs_service,
        ecs_task_definition,
        ecs_task,
        flows,
        packets,
        bytes,
        CASE
            WHEN aws_service IS NOT NULL THEN 'aws-service'
            WHEN in_vpc THEN 'vpc'
            WHEN {{ is_private(col('dstaddr')) }} THEN 'private'
            ELSE 'internet'
        END AS destination
    FROM classified
)

SELECT
    ecs_cluster,
    ecs_service,
    ecs_task_definition,
    destination,
    count(DISTINCT ecs_task) AS task_count,
    sum(flows) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM labelled
GROUP BY ecs_cluster, ecs_service, ecs_task_definition, destination
ORDER BY bytes DESC, ecs_cluster ASC, ecs_service ASC, ecs_task_definition ASC, destination ASC
