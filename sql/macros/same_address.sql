{#- Are two addresses (VARCHAR expressions: columns, parameters) the same address? An IPv6 address
    has many spellings (2001:db8::1, 2001:DB8:0:0:0:0:0:1). On Athena both sides are read as
    IPADDRESS (TRY_CAST: NULL, so never equal, when a value is no address), which compares
    addresses, an IPv4-mapped IPv6 address (::ffff:10.0.0.1) equal to its IPv4 address. On the
    local engine every address a query sees is already one text per address (a file's addresses
    through flowsql_addr when it spells them otherwise; parameters and the inventory's addresses by
    flowsql), so text equality is address equality and a join on it stays a hash join. -#}
{% macro same_address(a, b) -%}
{%- if engine == 'athena' -%}
try_cast({{ a }} AS IPADDRESS) = try_cast({{ b }} AS IPADDRESS)
{%- else -%}
{{ a }} = {{ b }}
{%- endif -%}
{%- endmacro %}


{#- Is an address (a VARCHAR expression) one of a list parameter's addresses? As same_address: on
    Athena every side read as IPADDRESS, on the local engine text (one text per address). -#}
{% macro address_in(a, values) -%}
{%- if engine == 'athena' -%}
try_cast({{ a }} AS IPADDRESS) IN ({% for v in values %}{% if not loop.first %}, {% endif %}try_cast({{ v }} AS IPADDRESS){% endfor %})
{%- else -%}
{{ a }} IN ({{ values }})
{%- endif -%}
{%- endmacro %}
