{#- The body of the case queries (case-address, case-cidr, case-eni) that `flowsql investigate`
    makes a case file from: the subject's records read once (one read of the table on Athena) and
    summed per part of the case (case_parts, each engine's own) — `peer` (per direction and peer address),
    `interface` (every record has one: their sums are the totals), `hour`, `rejected` (per direction,
    peer, port and protocol), `ecs` (per task) and, for an ENI, `undirected` (records whose direction
    is not known). `kind` says how a record is the
    subject's: `address` (srcaddr or dstaddr is it), `cidr` (inside the block) or `eni` (its
    interface-id; sent from flow-direction, else from `addresses`, the ENI's own, when given). -#}
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
        {{ same_address(col('srcaddr'), subject) }} AS sent,
        {{ same_address(col('dstaddr'), subject) }} AS received,
        {% elif kind == 'cidr' %}
        {{ in_block(subject, col('srcaddr')) }} AS sent,
        {{ in_block(subject, col('dstaddr')) }} AS received,
        {% else %}
        CASE
            WHEN {{ column('flow_direction') }} IS NOT NULL THEN {{ column('flow_direction') }} = 'egress'
            {% if addresses is not none %}
            ELSE {{ address_in(col('srcaddr'), addresses) }}
            {% endif %}
        END AS sent,
        CASE
            WHEN {{ column('flow_direction') }} IS NOT NULL THEN {{ column('flow_direction') }} = 'ingress'
            {% if addresses is not none %}
            ELSE {{ address_in(col('dstaddr'), addresses) }}
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
        {% if kind == 'address' %}
        AND ({{ same_address(col('srcaddr'), subject) }} OR {{ same_address(col('dstaddr'), subject) }})
        {% elif kind == 'cidr' %}
        AND ({{ in_block(subject, col('srcaddr')) }} OR {{ in_block(subject, col('dstaddr')) }})
        {% else %}
        AND interface_id = {{ subject }}
        {% endif %}
),

-- what each part groups by: a peer is the destination of what the subject sent and the source
-- of what it received; a key is null for the records its part does not count (those rows are dropped)
keyed AS (
    SELECT
        *,
        {% if kind == 'eni' %}
        CASE WHEN NOT (coalesce(sent, FALSE) OR coalesce(received, FALSE)) THEN srcaddr END AS undirected_src,
        CASE WHEN NOT (coalesce(sent, FALSE) OR coalesce(received, FALSE)) THEN dstaddr END AS undirected_dst,
        CASE WHEN NOT (coalesce(sent, FALSE) OR coalesce(received, FALSE)) THEN dstport END AS undirected_port,
        CASE WHEN NOT (coalesce(sent, FALSE) OR coalesce(received, FALSE)) THEN protocol END AS undirected_protocol,
        CASE WHEN NOT (coalesce(sent, FALSE) OR coalesce(received, FALSE)) THEN action END AS undirected_action,
        {% endif %}
        CASE WHEN sent THEN dstaddr END AS peer_out,
        CASE WHEN received THEN srcaddr END AS peer_in,
        CASE WHEN sent AND action = 'REJECT' THEN dstaddr END AS rejected_out,
        CASE WHEN received AND action = 'REJECT' THEN srcaddr END AS rejected_in,
        CASE WHEN action = 'REJECT' THEN dstport END AS rejected_port,
        CASE WHEN action = 'REJECT' THEN protocol END AS rejected_protocol
    FROM records
),

-- every part of the case from one read of `keyed`, each engine its own way (case_parts): grouping sets
-- on Athena, one aggregation per part on the local engine
parts AS (
    {{ dispatch('case_parts')(kind) }}
)

SELECT
    part,
    direction,
    address,
    destination,
    interface_id,
    hour_start AS hour,  -- noqa: RF04
    port,
    record_protocol AS protocol,
    record_action AS action,  -- noqa: RF04
    ecs_cluster,
    ecs_service,
    ecs_task,
    flows,
    packets,
    bytes,
    accepted_flows,
    rejected_flows,
    accepted_packets,
    accepted_bytes,
    flows_sent,
    flows_received,
    bytes_sent,
    bytes_received,
    first_seen,
    last_seen,
    ports,
    protocols,
    interfaces
FROM parts
WHERE
    part IN ('interface', 'hour')
    OR address IS NOT NULL
    OR (part = 'ecs' AND coalesce(ecs_cluster, ecs_service, ecs_task) IS NOT NULL)
ORDER BY
    part ASC,
    direction ASC,
    address ASC,
    destination ASC,
    interface_id ASC,
    hour_start ASC,
    port ASC,
    record_protocol ASC,
    record_action ASC,
    ecs_cluster ASC,
    ecs_service ASC,
    ecs_task ASC
{%- endmacro %}


{#- The figures every part of a case sums, in the columns of docs/queries.md ("Case files"): one list
    for both engines' case_parts (count(CASE …), not count_if: DuckDB's count_if of no rows is null,
    Trino's 0). Its lines after the first are indented for a select list inside a WITH query. -#}
{% macro case_sums() -%}
count(*) AS flows,
        sum(packets) AS packets,
        sum(bytes) AS bytes,
        count(CASE WHEN action = 'ACCEPT' THEN 1 END) AS accepted_flows,
        count(CASE WHEN action = 'REJECT' THEN 1 END) AS rejected_flows,
        sum(CASE WHEN action = 'ACCEPT' THEN packets END) AS accepted_packets,
        sum(CASE WHEN action = 'ACCEPT' THEN bytes END) AS accepted_bytes,
        count(CASE WHEN sent THEN 1 END) AS flows_sent,
        count(CASE WHEN received THEN 1 END) AS flows_received,
        sum(CASE WHEN sent THEN bytes END) AS bytes_sent,
        sum(CASE WHEN received THEN bytes END) AS bytes_received,
        min(start) AS first_seen,
        max(end_time) AS last_seen
{%- endmacro %}
