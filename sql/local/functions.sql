-- DuckDB functions the local engine creates in each session (the Athena side uses Trino built-ins).
-- CIDR matching with integers: an IPv4 address is a UBIGINT of 32 bits, an IPv6 address a UHUGEINT of
-- 128; a block of prefix p contains an address when both agree after shifting out the (bits - p) low
-- bits. No extension, no UDF. An IPv4 address is never inside an IPv6 block, nor the reverse; anything
-- that is not an address (or a block) in the form flow logs and the EC2 API write is inside nothing.

CREATE OR REPLACE MACRO flowsql_ipv4_int(ip) AS (
    CASE
        WHEN regexp_full_match(ip, '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}')
            THEN (CAST(split_part(ip, '.', 1) AS UBIGINT) << 24)
                + (CAST(split_part(ip, '.', 2) AS UBIGINT) << 16)
                + (CAST(split_part(ip, '.', 3) AS UBIGINT) << 8)
                + CAST(split_part(ip, '.', 4) AS UBIGINT)
    END
);

CREATE OR REPLACE MACRO flowsql_ipv6_groups(ip) AS (
    CASE
        WHEN contains(ip, '::') THEN list_concat(
            CASE WHEN split_part(ip, '::', 1) = '' THEN []::VARCHAR[]
                 ELSE string_split(split_part(ip, '::', 1), ':') END,
            list_resize([]::VARCHAR[],
                8 - (CASE WHEN split_part(ip, '::', 1) = '' THEN 0
                          ELSE len(string_split(split_part(ip, '::', 1), ':')) END)
                  - (CASE WHEN split_part(ip, '::', 2) = '' THEN 0
                          ELSE len(string_split(split_part(ip, '::', 2), ':')) END),
                '0'),
            CASE WHEN split_part(ip, '::', 2) = '' THEN []::VARCHAR[]
                 ELSE string_split(split_part(ip, '::', 2), ':') END
        )
        ELSE string_split(ip, ':')
    END
);

CREATE OR REPLACE MACRO flowsql_ipv6_int(ip) AS (
    CASE
        WHEN regexp_full_match(ip, '[0-9A-Fa-f:]{2,39}')
            AND len(string_split(ip, '::')) <= 2
            AND len(flowsql_ipv6_groups(ip)) = 8
            AND list_bool_and(list_transform(flowsql_ipv6_groups(ip), lambda g: regexp_full_match(g, '[0-9A-Fa-f]{1,4}')))
            THEN list_reduce(
                list_transform(flowsql_ipv6_groups(ip),
                    lambda g, i: CAST(('0x' || g) AS UHUGEINT) << CAST(16 * (8 - i) AS UHUGEINT)),
                lambda a, b: a + b)
    END
);

-- The prefix length of a block ('10.0.0.0/8' -> 8; no '/' -> the whole address); NULL when invalid.
CREATE OR REPLACE MACRO flowsql_prefix(block, bits) AS (
    CASE
        WHEN NOT contains(block, '/') THEN bits
        WHEN regexp_full_match(split_part(block, '/', 2), '[0-9]{1,3}')
            AND CAST(split_part(block, '/', 2) AS INTEGER) <= bits
            THEN CAST(split_part(block, '/', 2) AS INTEGER)
    END
);

CREATE OR REPLACE MACRO flowsql_cidr_contains(block, ip) AS (
    coalesce(
        CASE
            WHEN contains(ip, ':') != contains(block, ':') THEN false
            WHEN contains(ip, ':') THEN
                (flowsql_ipv6_int(ip) >> CAST(128 - flowsql_prefix(block, 128) AS UHUGEINT))
                = (flowsql_ipv6_int(split_part(block, '/', 1)) >> CAST(128 - flowsql_prefix(block, 128) AS UHUGEINT))
            ELSE
                (flowsql_ipv4_int(ip) >> CAST(32 - flowsql_prefix(block, 32) AS UBIGINT))
                = (flowsql_ipv4_int(split_part(block, '/', 1)) >> CAST(32 - flowsql_prefix(block, 32) AS UBIGINT))
        END,
        false
    )
);
