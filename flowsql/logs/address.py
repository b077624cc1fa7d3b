"""The one text flowsql compares an IP address by.

An IPv6 address has many spellings (`2001:db8::1`, `2001:DB8:0:0:0:0:0:1`, `2001:0db8::0001`).
Flow logs are compared as addresses, not as text, on every engine: Athena reads both sides as
IPADDRESS (sql/macros/same_address.sql); the local engine reads a file that spells an address
otherwise through `flowsql_addr` (flowsql/engines/local/functions.sql). Parameters and the inventory's addresses
are made this same text here, so that text equality is address equality wherever flowsql compares:
an IPv4 address as it is written (it has one spelling), an IPv6 address in RFC 5952 form (lower
case, no leading zeros, the longest run of zero groups as `::`), an IPv4-mapped IPv6 address
(`::ffff:192.0.2.1`) as the IPv4 address, as Athena's IPADDRESS type reads and prints it.
"""

from __future__ import annotations

import ipaddress


def canonical(text) -> str | None:
    """The text flowsql compares `text` by, or None when it is no IPv4 or IPv6 address (a zone
    index, `fe80::1%eth0`, is no part of an address in a flow log)."""
    if not isinstance(text, str) or "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
