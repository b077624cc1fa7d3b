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

-- The explicit groups on one side of an IPv6 address's '::' ('' -> none).
CREATE OR REPLACE MACRO flowsql_ipv6_side(part) AS (
    CASE WHEN part = '' THEN []::VARCHAR[] ELSE string_split(part, ':') END
);

-- A macro's argument is copied wherever the macro names it, so a value used more than once is bound
-- once, as the parameter of a lambda over a one-element list (list_transform([value], lambda v: …)[1]):
-- nested macros would otherwise grow exponentially.

-- The eight groups of an IPv6 address in hex (a '::' stands for at least one group of zeros); NULL
-- when there are too many or too few.
CREATE OR REPLACE MACRO flowsql_ipv6_groups(ip) AS (
    CASE
        WHEN NOT contains(ip, '::') THEN string_split(ip, ':')
        ELSE list_transform(
            [[flowsql_ipv6_side(split_part(ip, '::', 1)), flowsql_ipv6_side(split_part(ip, '::', 2))]],
            lambda lr: CASE WHEN len(lr[1]) + len(lr[2]) <= 7
                THEN list_concat(lr[1], list_resize([]::VARCHAR[], 8 - len(lr[1]) - len(lr[2]), '0'), lr[2]) END)[1]
    END
);

CREATE OR REPLACE MACRO flowsql_ipv6_int(ip) AS (
    CASE
        WHEN regexp_full_match(ip, '[0-9A-Fa-f:]{2,39}') AND len(string_split(ip, '::')) <= 2
            THEN list_transform([flowsql_ipv6_groups(ip)], lambda gs:
                CASE WHEN len(gs) = 8
                        AND list_bool_and(list_transform(gs, lambda g: regexp_full_match(g, '[0-9A-Fa-f]{1,4}')))
                    THEN list_reduce(
                        list_transform(gs, lambda g, i: CAST(('0x' || g) AS UHUGEINT) << CAST(16 * (8 - i) AS UHUGEINT)),
                        lambda a, b: a + b)
                END)[1]
    END
);

-- An IPv6 text whose last 32 bits are written as an IPv4 address (RFC 4291: ::ffff:192.0.2.1) in
-- hex groups only; NULL when that part is no IPv4 address.
CREATE OR REPLACE MACRO flowsql_ipv6_hex(ip) AS (
    CASE
        WHEN NOT contains(ip, '.') THEN ip
        ELSE list_transform([flowsql_ipv4_int(regexp_extract(ip, '[^:]*$'))], lambda v:
            regexp_extract(ip, '^(.*:)[^:]*$', 1) || printf('%x:%x', v >> 16, v & 65535))[1]
    END
);

-- ':g1:…:g8:' with its longest run of two or more ':0' (the leftmost of equal ones) as '::'.
CREATE OR REPLACE MACRO flowsql_ipv6_compress(s) AS (
    CASE
        WHEN contains(s, ':0:0:0:0:0:0:0:0:') THEN '::'
        WHEN contains(s, ':0:0:0:0:0:0:0:') THEN regexp_replace(s, '(:0){7}:', '::')
        WHEN contains(s, ':0:0:0:0:0:0:') THEN regexp_replace(s, '(:0){6}:', '::')
        WHEN contains(s, ':0:0:0:0:0:') THEN regexp_replace(s, '(:0){5}:', '::')
        WHEN contains(s, ':0:0:0:0:') THEN regexp_replace(s, '(:0){4}:', '::')
        WHEN contains(s, ':0:0:0:') THEN regexp_replace(s, '(:0){3}:', '::')
        WHEN contains(s, ':0:0:') THEN regexp_replace(s, '(:0){2}:', '::')
        ELSE s
    END
);

-- The RFC 5952 text of a 128-bit IPv6 address: lower-case hex groups without leading zeros, the
-- longest run of two or more zero groups (the first of equal ones) as '::'. An IPv4-mapped address
-- (::ffff:0:0/96) is the IPv4 address itself, as Athena's IPADDRESS type reads and prints it.
CREATE OR REPLACE MACRO flowsql_ipv6_text(n) AS (
    CASE
        WHEN n IS NULL THEN NULL
        WHEN n >> CAST(32 AS UHUGEINT) = CAST(65535 AS UHUGEINT)
            THEN printf('%d.%d.%d.%d', CAST((n >> CAST(24 AS UHUGEINT)) & CAST(255 AS UHUGEINT) AS INTEGER),
                        CAST((n >> CAST(16 AS UHUGEINT)) & CAST(255 AS UHUGEINT) AS INTEGER),
                        CAST((n >> CAST(8 AS UHUGEINT)) & CAST(255 AS UHUGEINT) AS INTEGER),
                        CAST(n & CAST(255 AS UHUGEINT) AS INTEGER))
        ELSE list_transform(
            [':' || array_to_string(list_transform(range(8), lambda i: printf('%x',
                CAST((n >> CAST(16 * (7 - i) AS UHUGEINT)) & CAST(65535 AS UHUGEINT) AS INTEGER))), ':') || ':'],
            lambda s: regexp_replace(regexp_replace(flowsql_ipv6_compress(s), '^:([^:])', '\1'), '([^:]):$', '\1'))[1]
    END
);

-- An address as one text per address (what the local engine compares, groups and joins on): an
-- IPv4 address as written, an IPv6 address in RFC 5952 form (flowsql_ipv6_text), in whatever form
-- it was written (upper case, leading zeros, uncompressed, a dotted IPv4 tail); NULL for anything
-- that is no address.
CREATE OR REPLACE MACRO flowsql_addr(ip) AS (
    CASE
        WHEN ip IS NULL THEN NULL
        WHEN NOT contains(ip, ':') THEN CASE WHEN flowsql_ipv4_int(ip) IS NOT NULL THEN ip END
        ELSE list_transform([flowsql_ipv6_hex(ip)], lambda h:
            list_transform([flowsql_ipv6_int(h)], lambda n: flowsql_ipv6_text(n))[1])[1]
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
