{#- The body of the queries of ports reached from the internet (admin-ports-from-internet,
    db-ports-from-internet): accepted records to one of `ports` from a public source, per source,
    destination and port. One body, so the two cannot drift apart. -#}
{% macro ports_from_internet(ports) -%}
WITH hits AS (
    SELECT
        srcaddr,
        dstaddr,
        dstport,
        count(*) AS flows,
        sum(packets) AS packets,
        sum(bytes) AS bytes,
        min(start) AS first_seen,
        max("end") AS last_seen
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
        AND action = 'ACCEPT'
        AND dstport IN ({{ ports }})
        AND srcaddr IS NOT NULL
    GROUP BY srcaddr, dstaddr, dstport
),

classified AS (
    -- the CIDR test runs on the aggregated rows: as a window function's argument no optimizer moves
    -- it below the GROUP BY, as both engines do with a WHERE on a grouping column (the test would
    -- then run once per record); one reference to `hits`, so Athena scans the table once
    SELECT
        srcaddr,
        dstaddr,
        dstport,
        flows,
        packets,
        bytes,
        first_seen,
        last_seen,
        bool_or({{ is_public(col('srcaddr')) }}) OVER (PARTITION BY srcaddr) AS public_source
    FROM hits
)

SELECT
    srcaddr,
    dstaddr,
    dstport,
    flows,
    packets,
    bytes,
    first_seen,
    last_seen
FROM classified
WHERE public_source
ORDER BY flows DESC, srcaddr ASC, dstaddr ASC, dstport ASC
{%- endmacro %}
