{#- Is the address `ip` inside the CIDR block `block` (both VARCHAR expressions)?
    sqlglot would turn Trino's contains(cidr, cast(ip AS IPADDRESS)) into a wrong DuckDB call without
    an error, so each engine gets its own form. On the local engine flowsql registers
    flowsql_cidr_contains (IPv4 and IPv6, an IPv4 address is never inside an IPv6 block). -#}
{% macro cidr_contains(block, ip) -%}
{%- if engine == 'athena' -%}
contains({{ block }}, cast({{ ip }} AS IPADDRESS))
{%- else -%}
flowsql_cidr_contains({{ block }}, {{ ip }})
{%- endif -%}
{%- endmacro %}
