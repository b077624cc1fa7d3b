"""The hand-written DuckDB baseline: what a careful user would write by hand, as a Python process.

    python bench/baseline/duckdb_query.py QUERY FILES.json INVENTORY_DIR

FILES.json maps each log format (its header line) to the files to read. The SQL of each query is
written directly for DuckDB (bench/baseline/QUERY.sql, with `flow` the typed records of every file and
`enis`, `eni_ips`, `vpc_cidrs` the inventory); nothing of flowsql is imported. Prints the row count.
"""

import json
import sys
from pathlib import Path

import duckdb

TYPES = {"version": "INTEGER", "srcport": "INTEGER", "dstport": "INTEGER", "protocol": "INTEGER",
         "packets": "BIGINT", "bytes": "BIGINT", "start": "BIGINT", "end": "BIGINT", "tcp-flags": "INTEGER",
         "traffic-path": "INTEGER"}


def main() -> None:
    query, files_json, inventory = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    groups = json.loads(files_json.read_text())
    con = duckdb.connect()
    selects = []
    for header, files in groups.items():
        cols = ", ".join(f"'{n.replace('-', '_')}': '{TYPES.get(n, 'VARCHAR')}'" for n in header.split())
        selects.append(f"SELECT * FROM read_csv({files!r}, delim=' ', header=true, nullstr='-', quote='', escape='', "
                       f"auto_detect=false, columns={{{cols}}})")
    con.execute("CREATE VIEW flow AS " + " UNION ALL BY NAME ".join(selects))
    enis = json.loads((inventory / "network-interfaces.json").read_text())["NetworkInterfaces"]
    vpcs = json.loads((inventory / "vpcs.json").read_text())["Vpcs"]
    con.execute("CREATE TABLE enis (interface_id VARCHAR, subnet_id VARCHAR, interface_type VARCHAR, "
                "description VARCHAR)")
    con.executemany("INSERT INTO enis VALUES (?, ?, ?, ?)", [
        (e["NetworkInterfaceId"], e.get("SubnetId"), e.get("InterfaceType"), e.get("Description") or "") for e in enis])
    con.execute("CREATE TABLE eni_ips (interface_id VARCHAR, ip VARCHAR)")
    con.executemany("INSERT INTO eni_ips VALUES (?, ?)", [
        (e["NetworkInterfaceId"], a["PrivateIpAddress"]) for e in enis for a in e.get("PrivateIpAddresses") or []]
        + [(e["NetworkInterfaceId"], a["Ipv6Address"]) for e in enis for a in e.get("Ipv6Addresses") or []])
    con.execute("CREATE TABLE vpc_cidrs (cidr VARCHAR)")
    con.executemany("INSERT INTO vpc_cidrs VALUES (?)", [
        (a["CidrBlock"],) for v in vpcs for a in v.get("CidrBlockAssociationSet") or []]
        + [(a["Ipv6CidrBlock"],) for v in vpcs for a in v.get("Ipv6CidrBlockAssociationSet") or []])
    sql = (Path(__file__).parent / f"{query}.sql").read_text()
    rows = con.execute(sql).fetchall()
    if query == "lambda-egress":  # classify the hundred rows kept, as a careful user would
        import ipaddress

        blocks = [ipaddress.ip_network(c) for (c,) in con.execute("SELECT cidr FROM vpc_cidrs").fetchall()]
        rows = [(*r, "vpc" if any(ipaddress.ip_address(r[0]) in b for b in blocks
                                  if b.version == ipaddress.ip_address(r[0]).version)
                 else "private" if ipaddress.ip_address(r[0]).is_private else "internet") for r in rows]
    print(len(rows))


if __name__ == "__main__":
    main()
