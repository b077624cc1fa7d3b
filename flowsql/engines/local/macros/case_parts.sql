{#- case_parts on the local engine: one aggregation per part of the case, each over the records its key
    holds only, with only the lists its rows show. Every part reads `keyed`, which DuckDB therefore
    materialises: the files are still read once. Grouping sets (athena__case_parts) carry every
    aggregate, the lists among them, through every set, the group of the records a set does not
    count (its null key: most of them) included, at twenty times this cost on a busy /24. The rows
    are athena__case_parts' (tests/test_investigate.py runs both). -#}
{% macro local__case_parts(kind) -%}
{% set peer_lists = {"ports": "dstport", "protocols": "protocol", "interfaces": "interface_id"} %}
{% set interfaces = {"interfaces": "interface_id"} %}
{{ _part("peer", "outbound", {"address": "peer_out"}, ["peer_out"], peer_lists) }}
    UNION ALL
    {{ _part("peer", "inbound", {"address": "peer_in"}, ["peer_in"], peer_lists) }}
    UNION ALL
    {{ _part("interface", none, {"interface_id": "interface_id"}, [], {}) }}
    UNION ALL
    {{ _part("hour", none, {"hour_start": "hour_start"}, [], {}) }}
    UNION ALL
    {{ _part("rejected", "outbound", {"address": "rejected_out", "port": "rejected_port",
                                      "record_protocol": "rejected_protocol"}, ["rejected_out"], interfaces) }}
    UNION ALL
    {{ _part("rejected", "inbound", {"address": "rejected_in", "port": "rejected_port",
                                     "record_protocol": "rejected_protocol"}, ["rejected_in"], interfaces) }}
    UNION ALL
    {{ _part("ecs", none, {"ecs_cluster": "ecs_cluster", "ecs_service": "ecs_service", "ecs_task": "ecs_task"},
             ["ecs_cluster", "ecs_service", "ecs_task"], interfaces) }}
{% if kind == 'eni' %}
    UNION ALL
    {{ _part("undirected", none, {"address": "undirected_src", "destination": "undirected_dst",
                                  "port": "undirected_port", "record_protocol": "undirected_protocol",
                                  "record_action": "undirected_action"}, ["undirected_src"], interfaces) }}
{% endif %}
{%- endmacro %}


{#- One part's rows: `keys` (output column -> the column of `keyed` it groups by; the other key columns
    are typed nulls), the records kept (`present`: those with one of these columns not null; empty:
    all), `lists` (output column -> the column whose distinct values it joins; the other lists are
    null). Names are printed through col(): a template prints no raw text. -#}
{% macro _part(part, direction, keys, present, lists) -%}
SELECT
        '{{ col(part) }}' AS part,
        {{ _text(direction) }} AS direction,
        {{ _key(keys, "address", "VARCHAR") }},
        {{ _key(keys, "destination", "VARCHAR") }},
        {{ _key(keys, "interface_id", "VARCHAR") }},
        {{ _key(keys, "hour_start", "BIGINT") }},
        {{ _key(keys, "port", "INTEGER") }},
        {{ _key(keys, "record_protocol", "INTEGER") }},
        {{ _key(keys, "record_action", "VARCHAR") }},
        {{ _key(keys, "ecs_cluster", "VARCHAR") }},
        {{ _key(keys, "ecs_service", "VARCHAR") }},
        {{ _key(keys, "ecs_task", "VARCHAR") }},
        {{ case_sums() }},
        {{ _list(lists, "ports") }} AS ports,
        {{ _list(lists, "protocols") }} AS protocols,
        {{ _list(lists, "interfaces") }} AS interfaces
    FROM keyed
{% if present | length == 1 %}
    WHERE {{ col(present[0]) }} IS NOT NULL
{% elif present %}
    WHERE coalesce({{ _names(present) }}) IS NOT NULL
{% endif %}
    GROUP BY {{ _names(keys.values() | list) }}
{%- endmacro %}


{% macro _text(value) -%}
{% if value %}'{{ col(value) }}'{% else %}cast(NULL AS VARCHAR){% endif %}
{%- endmacro %}


{#- A key column as `name`: the column of `keyed` it is (aliased unless it has that name), or a typed null. -#}
{% macro _key(keys, name, sql_type) -%}
{% if name not in keys %}cast(NULL AS {{ col(sql_type) }}) AS {{ col(name) }}{% elif keys[name] == name %}{{ col(name) }}{% else %}{{ col(keys[name]) }} AS {{ col(name) }}{% endif %}
{%- endmacro %}


{% macro _list(lists, name) -%}
{% if name in lists %}array_join(array_sort(array_distinct(array_agg({{ col(lists[name]) }}))), ','){% else %}cast(NULL AS VARCHAR){% endif %}
{%- endmacro %}


{% macro _names(names) -%}
{% for n in names %}{{ col(n) }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}
