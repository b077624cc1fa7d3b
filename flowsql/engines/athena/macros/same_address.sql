{#- same_address on Athena: both sides read as IPADDRESS (TRY_CAST: NULL, so never equal, when a
    value is no address), which compares addresses, an IPv4-mapped IPv6 address (::ffff:10.0.0.1)
    equal to its IPv4 address. -#}
{% macro athena__same_address(a, b) -%}
try_cast({{ a }} AS IPADDRESS) = try_cast({{ b }} AS IPADDRESS)
{%- endmacro %}


{#- address_in on Athena: every side read as IPADDRESS, as athena__same_address. -#}
{% macro athena__address_in(a, values) -%}
try_cast({{ a }} AS IPADDRESS) IN ({% for v in values %}{% if not loop.first %}, {% endif %}try_cast({{ v }} AS IPADDRESS){% endfor %})
{%- endmacro %}
