{#- Stand-ins for the renderer's typed helpers (flowsql/render.py), for `sqlfluff lint sql/` only:
    the renderer itself never loads this folder. -#}
{% macro col(name) %}{{ name }}{% endmacro %}
{% macro cidr(text) %}'{{ text }}'{% endmacro %}
{% macro column(name, alias=none) %}{% if alias %}{{ alias }}.{% endif %}{{ name }}{% endmacro %}
