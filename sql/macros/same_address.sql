{#- Are two addresses (VARCHAR expressions: columns, parameters) the same address? An IPv6 address
    has many spellings (2001:db8::1, 2001:DB8:0:0:0:0:0:1): each engine compares them as addresses
    its own way (athena__same_address, local__same_address). -#}
{% macro same_address(a, b) -%}
{{ dispatch('same_address')(a, b) }}
{%- endmacro %}


{#- Is an address (a VARCHAR expression) one of a list parameter's addresses? As same_address. -#}
{% macro address_in(a, values) -%}
{{ dispatch('address_in')(a, values) }}
{%- endmacro %}
