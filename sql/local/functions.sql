-- DuckDB functions the local engine creates in each session (the Athena side uses Trino built-ins).
-- CIDR matching by bit strings: an address becomes its 32 or 128 bits as text, and a block contains
-- it when the address starts with the block's first prefix-length bits. No extension, no UDF, IPv4
-- and IPv6 alike; an IPv4 address is never inside an IPv6 block (the lengths differ).

CREATE OR REPLACE MACRO flowsql_ipv4_bits(ip) AS (
    CASE
        WHEN regexp_full_match(ip, '[0-9]{1,3}(\.[0-9]{1,3}){3}')
            AND list_max(list_transform(string_split(ip, '.'), lambda o: CAST(o AS INTEGER))) <= 255
            THEN list_aggregate(
                list_transform(string_split(ip, '.'), lambda o: lpad(bin(CAST(o AS INTEGER)), 8, '0')),
                'string_agg', ''
            )
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

CREATE OR REPLACE MACRO flowsql_ipv6_bits(ip) AS (
    CASE
        WHEN regexp_full_match(ip, '[0-9A-Fa-f:]{2,39}')
            AND len(string_split(ip, '::')) <= 2
            AND len(flowsql_ipv6_groups(ip)) = 8
            AND list_bool_and(list_transform(flowsql_ipv6_groups(ip), lambda g: regexp_full_match(g, '[0-9A-Fa-f]{1,4}')))
            THEN list_aggregate(
                list_transform(flowsql_ipv6_groups(ip),
                    lambda g: lpad(bin(CAST(('0x' || g) AS INTEGER)), 16, '0')),
                'string_agg', ''
            )
    END
);

CREATE OR REPLACE MACRO flowsql_ip_bits(ip) AS (
    CASE WHEN contains(ip, ':') THEN flowsql_ipv6_bits(ip) ELSE flowsql_ipv4_bits(ip) END
);

CREATE OR REPLACE MACRO flowsql_cidr_contains(block, ip) AS (
    coalesce(
        length(flowsql_ip_bits(ip)) = length(flowsql_ip_bits(split_part(block, '/', 1)))
        AND starts_with(
            flowsql_ip_bits(ip),
            left(flowsql_ip_bits(split_part(block, '/', 1)),
                 coalesce(TRY_CAST(split_part(block, '/', 2) AS INTEGER),
                          length(flowsql_ip_bits(split_part(block, '/', 1)))))
        ),
        false
    )
);
