{#- An address on the internet: none of is_private's ranges (documentation ranges count as internet,
    as in lambda-egress). Queries test it on aggregated rows where they can: it is a CIDR test. -#}
{% macro is_public(ip) -%}
NOT {{ is_private(ip) }}
{%- endmacro %}
