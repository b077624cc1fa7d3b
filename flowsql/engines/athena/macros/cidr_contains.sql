{#- cidr_contains on Athena: Trino before release 427 raises "IP address version should be the same"
    when contains() compares an IPv4 address with an IPv6 block (or the reverse), and Athena does
    not say which Trino it runs: contains() is only reached, inside a CASE, for values of one
    version (an IPv6 text has a ':'), so the SQL is right on either. -#}
{% macro athena__cidr_contains(block, ip) -%}
CASE WHEN (strpos({{ block }}, ':') > 0) = (strpos({{ ip }}, ':') > 0) THEN contains({{ block }}, cast({{ ip }} AS IPADDRESS)) ELSE FALSE END
{%- endmacro %}
