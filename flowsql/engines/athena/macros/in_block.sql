{#- in_block on Athena: cidr_contains. -#}
{% macro athena__in_block(block, ip) -%}
{{ athena__cidr_contains(block, ip) }}
{%- endmacro %}
