{#- in_block on the local engine: first a cheap test of the address's text: an IPv4 address of a /8,
    /16 or /24 (or longer) block starts with the block's first one, two or three octets and a dot,
    which DuckDB computes once from the literal; for a /8, /16 or /24 that test is the whole answer,
    otherwise the CIDR test, a parse of the address, runs only on the addresses that pass it (a
    parse of every record's two addresses would double a scan's time). -#}
{% macro local__in_block(block, ip) -%}
(starts_with({{ ip }}, CASE WHEN strpos({{ block }}, ':') > 0 THEN '' WHEN cast(split_part({{ block }}, '/', 2) AS INTEGER) >= 24 THEN regexp_extract({{ block }}, '^[0-9]+[.][0-9]+[.][0-9]+[.]') WHEN cast(split_part({{ block }}, '/', 2) AS INTEGER) >= 16 THEN regexp_extract({{ block }}, '^[0-9]+[.][0-9]+[.]') WHEN cast(split_part({{ block }}, '/', 2) AS INTEGER) >= 8 THEN regexp_extract({{ block }}, '^[0-9]+[.]') ELSE '' END) AND ((strpos({{ block }}, ':') = 0 AND cast(split_part({{ block }}, '/', 2) AS INTEGER) IN (8, 16, 24)) OR {{ local__cidr_contains(block, ip) }}))
{%- endmacro %}
