{#- Is the address `ip` (a column) inside the CIDR block `block` (a literal)? cidr_contains, or on an
    engine where testing the address's text first is cheaper, that test first (local__in_block). -#}
{% macro in_block(block, ip) -%}
{{ dispatch('in_block')(block, ip) }}
{%- endmacro %}
