{#- The body of the case queries (case-address, case-cidr, case-eni) that `flowsql investigate`
    computes a case file from: the subject's records read once (one read of the table on Athena) and
    aggregated two ways by grouping sets. Rows with part `traffic`: per ENI, direction (sent: the
    subject is the source; received: the destination), source, destination, destination port,
    protocol, action and ECS task; rows with part `hour`: per hour of `start`, direction and action.
    `kind` says how a record is the subject's: `address` (srcaddr or dstaddr is it), `cidr` (inside
    the block) or `eni` (its interface-id; sent from flow-direction, else from `addresses`, the ENI's
    own, when given). -#}
{% macro case_records(kind, subject, addresses=none) -%}
WITH records AS (
    SELECT
        interface_id,
        srcaddr,
        dstaddr,
        dstport,
        protocol,
        action,
        packets,
        bytes,
        start,
        "end" AS end_time,
        start - start % 3600 AS hour_start,
        {% if kind == 'address' %}
        srcaddr = {{ subject }} AS sent,
        dstaddr = {{ subject }} AS received,
        {% elif kind == 'cidr' %}
        {{ in_block(subject, col('srcaddr')) }} AS sent,
        {{ in_block(subject, col('dstaddr')) }} AS received,
        {% else %}
        CASE
            WHEN {{ column('flow_direction') }} IS NOT NULL THEN {{ column('flow_direction') }} = 'egress'
            {% if addresses is not none %}
            ELSE srcaddr IN ({{ addresses }})
            {% endif %}
        END AS sent,
        CASE
            WHEN {{ column('flow_direction') }} IS NOT NULL THEN {{ column('flow_direction') }} = 'ingress'
            {% if addresses is not none %}
            ELSE dstaddr IN ({{ addresses }})
            {% endif %}
        END AS received,
        {% endif %}
        {{ column('ecs_cluster_name') }} AS ecs_cluster,
        {{ column('ecs_service_name') }} AS ecs_service,
        {{ column('ecs_task_arn') }} AS ecs_task
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        {% if kind == 'eni' %}
        AND interface_id = {{ subject }}
        {% endif %}
)

-- one read of `records`, two groupings: the traffic rows (no hour) and the hour rows
SELECT
    CASE WHEN grouping(hour_start) = 1 THEN 'traffic' ELSE 'hour' END AS part,
    interface_id,
    sent,
    received,
    srcaddr,
    dstaddr,
    dstport,
    protocol,
    action,
    ecs_cluster,
    ecs_service,
    ecs_task,
    hour_start AS hour,  -- noqa: RF04
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    min(start) AS first_seen,
    max(end_time) AS last_seen
FROM records
{% if kind != 'eni' %}
WHERE sent OR received
{% endif %}
GROUP BY
    GROUPING SETS (
        (interface_id, sent, received, srcaddr, dstaddr, dstport, protocol, action, ecs_cluster, ecs_service, ecs_task),
        (sent, received, hour_start, action)
    )
ORDER BY
    part ASC,
    interface_id ASC,
    sent ASC,
    received ASC,
    srcaddr ASC,
    dstaddr ASC,
    dstport ASC,
    protocol ASC,
    action ASC,
    ecs_cluster ASC,
    ecs_service ASC,
    ecs_task ASC,
    hour_start ASC
{%- endmacro %}
