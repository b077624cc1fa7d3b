{#- Is the address `ip` inside the CIDR block `block` (both VARCHAR expressions)?
    sqlglot would turn Trino's contains(cidr, cast(ip AS IPADDRESS)) into a wrong DuckDB call without
    an error, so each engine gets its own form. On Athena, Trino before release 427 raises "IP
    address version should be the same" when contains() compares an IPv4 address with an IPv6 block
    (or the reverse), and Athena does not say which Trino it runs: contains() is only reached, inside
    a CASE, for values of one version (an IPv6 text has a ':'), so the SQL is right on either. On the
    local engine flowsql registers flowsql_cidr_contains (an IPv4 address is never inside an IPv6
    block). -#}
{% macro cidr_contains(block, ip) -%}
{%- if engine == 'athena' -%}
CASE WHEN (strpos({{ block }}, ':') > 0) = (strpos({{ ip }}, ':') > 0) THEN contains({{ block }}, cast({{ ip }} AS IPADDRESS)) ELSE FALSE END
{%- else -%}
flowsql_cidr_contains({{ block }}, {{ ip }})
{%- endif -%}
{%- endmacro %}
