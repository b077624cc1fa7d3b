{#- case_parts on Athena: every part of the case in one aggregation of `keyed` by grouping sets, so
    that the table is read once (Trino does not materialise a WITH query: a second reference to
    `keyed` would read the table again, and Athena bills it). array_distinct(array_agg(…)), not
    array_agg(DISTINCT …): DuckDB, which runs this form in the tests, makes a DISTINCT aggregate of
    grouping sets seven more aggregations per set. -#}
{% macro athena__case_parts(kind) -%}
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
        {{ case_sums() }},
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
{%- endmacro %}
