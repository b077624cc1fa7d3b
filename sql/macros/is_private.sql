{#- Private, shared, link-local and loopback ranges (RFC 1918, RFC 6598, RFC 3927, RFC 4193, RFC 4291).
    Documentation ranges (192.0.2.0/24, 2001:db8::/32, …) are deliberately not here: they count as
    internet. -#}
{% macro is_private(ip) -%}
{%- set ranges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16',
                  '127.0.0.0/8', 'fc00::/7', 'fe80::/10', '::1/128'] -%}
({% for r in ranges %}{% if not loop.first %} OR {% endif %}{{ cidr_contains(cidr(r), ip) }}{% endfor %})
{%- endmacro %}
