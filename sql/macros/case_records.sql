{#- The body of the case queries (case-address, case-cidr, case-eni) that `flowsql investigate`
    makes a case file from: the subject's records read once (one read of the table on Athena) and
    summed per part of the case by grouping sets — `peer` (per direction and peer address),
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

-- what each grouping set groups by: a peer is the destination of what the subject sent and the source
-- of what it received; a key is null for the records its set does not count (those rows are dropped)
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

-- one read of `keyed`, every part of the case at once (count(CASE …), not count_if: DuckDB's count_if
-- of no rows is null, Trino's 0; array_distinct(array_agg(…)), not array_agg(DISTINCT …): DuckDB
-- runs a DISTINCT aggregate of grouping sets as seven more aggregations per set)
parts AS (
    SELECT
        CASE
            WHEN grouping(peer_out) = 0 OR grouping(peer_in) = 0 THEN 'peer'
            WHEN grouping(interface_id) = 0 THEN 'interface'
            WHEN grouping(hour_start) = 0 THEN 'hour'
            WHEN grouping(rejected_out) = 0 OR grouping(rejected_in) = 0 THEN 'rejected'
            WHEN grouping(ecs_task) = 0 THEN 'ecs'
            {% if kind == 'eni' %}
            WHEN grouping(undirected_src) = 0 THEN 'undirected'
            {% endif %}
        END AS part,
        CASE
            WHEN grouping(peer_out) = 0 OR grouping(rejected_out) = 0 THEN 'outbound'
            WHEN grouping(peer_in) = 0 OR grouping(rejected_in) = 0 THEN 'inbound'
        END AS direction,
        {% if kind == 'eni' %}
        coalesce(peer_out, peer_in, rejected_out, rejected_in, undirected_src) AS address,
        undirected_dst AS destination,
        interface_id,
        hour_start,
        coalesce(rejected_port, undirected_port) AS port,
        coalesce(rejected_protocol, undirected_protocol) AS record_protocol,
        undirected_action AS record_action,
        {% else %}
        coalesce(peer_out, peer_in, rejected_out, rejected_in) AS address,
        cast(NULL AS VARCHAR) AS destination,
        interface_id,
        hour_start,
        rejected_port AS port,
        rejected_protocol AS record_protocol,
        cast(NULL AS VARCHAR) AS record_action,
        {% endif %}
        ecs_cluster,
        ecs_service,
        ecs_task,
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
        max(end_time) AS last_seen,
        CASE
            WHEN grouping(peer_out) = 0 OR grouping(peer_in) = 0
                THEN array_join(array_sort(array_distinct(array_agg(dstport))), ',')
        END AS ports,
        CASE
            WHEN grouping(peer_out) = 0 OR grouping(peer_in) = 0
                THEN array_join(array_sort(array_distinct(array_agg(protocol))), ',')
        END AS protocols,
        CASE
            WHEN grouping(interface_id) = 1 AND grouping(hour_start) = 1
                THEN array_join(array_sort(array_distinct(array_agg(interface_id))), ',')
        END AS interfaces
    FROM keyed
    GROUP BY
        GROUPING SETS (
            {% if kind == 'eni' %}
            (undirected_src, undirected_dst, undirected_port, undirected_protocol, undirected_action),
            {% endif %}
            (peer_out),
            (peer_in),
            (interface_id),
            (hour_start),
            (rejected_out, rejected_port, rejected_protocol),
            (rejected_in, rejected_port, rejected_protocol),
            (ecs_cluster, ecs_service, ecs_task)
        )
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
