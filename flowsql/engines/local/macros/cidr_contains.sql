{#- cidr_contains on the local engine: flowsql registers flowsql_cidr_contains (functions.sql; an
    IPv4 address is never inside an IPv6 block). -#}
{% macro local__cidr_contains(block, ip) -%}
flowsql_cidr_contains({{ block }}, {{ ip }})
{%- endmacro %}
