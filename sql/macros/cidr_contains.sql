{#- Is the address `ip` inside the CIDR block `block` (both VARCHAR expressions)? Each engine has its
    own form (athena__cidr_contains, local__cidr_contains in flowsql/engines/<engine>/macros/):
    sqlglot would turn Trino's contains(cidr, cast(ip AS IPADDRESS)) into a wrong DuckDB call
    without an error. -#}
{% macro cidr_contains(block, ip) -%}
{{ dispatch('cidr_contains')(block, ip) }}
{%- endmacro %}
