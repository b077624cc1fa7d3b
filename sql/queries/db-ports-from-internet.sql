{#-
title: Database ports reached from the internet
description: >-
  Database and cache ports (MySQL, PostgreSQL, SQL Server, Oracle, Redis, Elasticsearch, MongoDB by
  default) that accepted traffic from internet addresses: per source, destination and port, how many
  records, packets and bytes, first and last seen.
severity: high
tags: [audit, security, exposure, internet, database]
compliance:
  - "related: AWS-FSBP:EC2.18"
  - "related: AWS-FSBP:EC2.19"
why: >-
  A data store reachable from the internet is one weak password, unpatched version or missing
  authentication away from a breach (Redis, Elasticsearch and MongoDB have long been found open and
  wiped or ransomed); an accepted record means a security group and network ACL let an internet
  address reach the port. The controls cited check security-group rules open to 0.0.0.0/0 or ::/0;
  these rows are the traffic that such a rule, or any rule admitting the source, let through.
remediation: >-
  Take the data store off the internet: remove 0.0.0.0/0 and ::/0 ingress on these ports, allow only
  the application's security groups, turn off public accessibility (RDS `PubliclyAccessible`), and
  reach it from outside through a VPN or AWS Systems Manager port forwarding. Review the sources and
  times the rows show, and the data store's own logs, for access that was not yours.
parameters:
  ports:
    type: list[port]
    default: [3306, 5432, 1433, 1521, 6379, 9200, 27017]
    description: The database and cache ports to look for (comma-separated).
semantics: >-
  As admin-ports-from-internet, for the database and cache ports: records with action ACCEPT and
  log-status OK in the window whose dstport is one of `ports` and whose srcaddr is public, grouped by
  srcaddr, dstaddr, dstport; first_seen and last_seen in Unix seconds. Ordered by flows desc, srcaddr
  asc, dstaddr asc, dstport asc.
example:
  ports: [3306, 5432, 6379, 11211]
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, packets, bytes, start, end]
-#}
{{ ports_from_internet(ports) }}
