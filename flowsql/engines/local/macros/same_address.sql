{#- same_address on the local engine: every address a query sees is already one text per address (a
    file's addresses through flowsql_addr when it spells them otherwise; parameters and the
    inventory's addresses by flowsql), so text equality is address equality and a join on it stays
    a hash join. -#}
{% macro local__same_address(a, b) -%}
{{ a }} = {{ b }}
{%- endmacro %}


{#- address_in on the local engine: text, as local__same_address. -#}
{% macro local__address_in(a, values) -%}
{{ a }} IN ({{ values }})
{%- endmacro %}
