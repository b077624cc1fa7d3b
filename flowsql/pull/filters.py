"""`--filter-address` / `--filter-port` of a CloudWatch Logs pull: narrowing asked of the service, and
the same narrowing applied again to every event that comes back.

An event matches when its `srcaddr` or `dstaddr` is one of the addresses (or in one of the CIDR
blocks), and its `srcport` or `dstport` one of the ports (each option alone narrows on its own).
The service is asked with space-delimited filter patterns built from the log format's field
positions, each a plain conjunction of equalities in the form AWS documents for flow logs
(`[version, account_id, …, srcaddr="10.0.1.5", …, dstport="443", …]`); "source or destination"
takes one pattern per side, and the events of all of them are merged (by event id). Only exact IPv4
addresses are sent (a CIDR block or an IPv6 address, whose text AWS may write in another form, is
applied locally only), at most `MAX_PATTERNS` patterns per request (beyond, the ports are applied
locally only, then the addresses too). Every event is then checked here as well, so a service that
ignores a pattern — moto does — gives the same files.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from itertools import product

from ..errors import UsageError
from ..logs.fields import LogFormat

MAX_PATTERNS = 8


@dataclass(frozen=True)
class EventFilter:
    networks: tuple = ()  # ipaddress networks
    ports: tuple[int, ...] = ()

    @classmethod
    def parse(cls, addresses, ports) -> "EventFilter":
        nets = []
        for a in addresses or ():
            try:
                nets.append(ipaddress.ip_network(a.strip(), strict=False))
            except ValueError:
                raise UsageError(f"--filter-address: not an IP address or CIDR block: {a!r}") from None
        out_ports = []
        for p in ports or ():
            text = str(p).strip()
            if not text.isdigit() or int(text) > 65535:
                raise UsageError(f"--filter-port: not a port number (0-65535): {p!r}")
            out_ports.append(int(text))
        return cls(tuple(dict.fromkeys(nets)), tuple(dict.fromkeys(out_ports)))

    def __bool__(self) -> bool:
        return bool(self.networks or self.ports)

    @property
    def spec(self) -> str:
        """A canonical text of the narrowing ("" for none), recorded with the files it made."""
        parts = [f"address={n}" for n in sorted(self.networks, key=lambda n: (n.version, n))]
        parts += [f"port={p}" for p in sorted(self.ports)]
        return ",".join(parts)

    def describe(self) -> str:
        said = []
        if self.networks:
            said.append("address " + " or ".join(str(n.network_address) if n.num_addresses == 1 else str(n)
                                                 for n in self.networks))
        if self.ports:
            said.append("port " + " or ".join(map(str, self.ports)))
        return " and ".join(said)

    def check_format(self, fmt: LogFormat, what: str) -> None:
        missing = []
        if self.networks:
            missing += [f for f in ("srcaddr", "dstaddr") if f not in fmt.names]
        if self.ports:
            missing += [f for f in ("srcport", "dstport") if f not in fmt.names]
        if missing:
            raise UsageError(f"{what}: its log format has no {', '.join(missing)} field, which "
                             "--filter-address/--filter-port need")

    def matcher(self, fmt: LogFormat):
        """fields (the message split on spaces) -> does the event match."""
        if not self:
            return None
        idx = {n: i for i, n in enumerate(fmt.names)}
        nets, ports = self.networks, set(self.ports)
        sa, da = idx.get("srcaddr"), idx.get("dstaddr")
        sp, dp = idx.get("srcport"), idx.get("dstport")

        def address_ok(fields) -> bool:
            for i in (sa, da):
                value = fields[i]
                if value == "-":
                    continue
                try:
                    ip = ipaddress.ip_address(value)
                except ValueError:
                    continue
                if any(ip.version == n.version and ip in n for n in nets):
                    return True
            return False

        def port_ok(fields) -> bool:
            return any(fields[i].isdigit() and int(fields[i]) in ports for i in (sp, dp))

        def match(fields) -> bool:
            return (not nets or address_ok(fields)) and (not ports or port_ok(fields))

        return match

    def patterns(self, fmt: LogFormat) -> list[str]:
        """The filter patterns to ask the service with (their events merged); [] for none (every
        event of the window, narrowed here only)."""
        exact = [str(n.network_address) for n in self.networks if n.version == 4 and n.num_addresses == 1]
        address_sides = [] if len(exact) < len(self.networks) else [
            (side, a) for a in exact for side in ("srcaddr", "dstaddr")]
        port_sides = [(side, str(p)) for p in self.ports for side in ("srcport", "dstport")]
        groups = [g for g in (address_sides, port_sides) if g]
        combos = [tuple(c) for c in product(*groups)] if groups else []
        if len(combos) > MAX_PATTERNS and address_sides and port_sides:
            combos = [(c,) for c in address_sides]  # the ports are applied here only
        if len(combos) > MAX_PATTERNS or not combos:
            return []
        return [_pattern(fmt, dict(c)) for c in combos]


def _pattern(fmt: LogFormat, equal: dict[str, str]) -> str:
    terms = []
    for name, column in zip(fmt.names, fmt.columns):
        terms.append(f'{column}="{equal[name]}"' if name in equal else column)
    return "[" + ", ".join(terms) + "]"
