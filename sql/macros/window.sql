{#- The partition bound every query over the flow-log table must have (no full scans).
    The days are the partition's own strings, so Athena's partition projection prunes on them. -#}
{% macro window(alias=none) -%}
{%- set p = (alias ~ '.') if alias else '' -%}
{{ col(p ~ 'day') }} BETWEEN {{ window_since }} AND {{ window_until }}
{%- if accounts %}
 AND {{ col(p ~ 'aws_account_id') }} IN ({{ accounts }})
{%- endif %}
{%- if regions %}
 AND {{ col(p ~ 'aws_region') }} IN ({{ regions }})
{%- endif %}
{%- endmacro %}
