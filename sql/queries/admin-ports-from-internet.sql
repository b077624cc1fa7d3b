{#-
title: Admin ports reached from the internet
description: >-
  Remote administration ports (SSH 22, RDP 3389 by default) that accepted traffic from internet
  addresses: per source, destination and port, how many records, packets and bytes, first and last
  seen. Each row is a door that was open to the internet, and someone came through it.
severity: high
tags: [audit, security, exposure, internet, admin]
compliance:
  - "related: AWS-FSBP:EC2.13"
  - "related: AWS-FSBP:EC2.14"
  - "related: AWS-FSBP:EC2.21"
  - "related: CIS-1.4:5.2"
  - "related: CIS-1.5:5.2"
  - "related: CIS-2.0:5.2"
  - "related: CIS-1.5:5.3"
  - "related: CIS-2.0:5.3"
why: >-
  SSH and RDP open to the internet are brute-forced within minutes of exposure and are a common way
  in; an accepted record means a security group and network ACL let an internet address reach the
  port. The controls cited check the rules themselves (0.0.0.0/0 or ::/0 to port 22 or 3389); these
  rows are the traffic that such a rule, or any rule admitting the source, let through.
remediation: >-
  Close the port to the internet: remove 0.0.0.0/0 and ::/0 ingress on these ports from the security
  groups and network ACLs of the destinations, and reach hosts through AWS Systems Manager Session
  Manager, a VPN or a bastion restricted to known addresses. Review the sessions the rows show (the
  sources, the times) for signs of compromise.
parameters:
  ports:
    type: list[port]
    default: [22, 3389]
    description: The administration ports to look for (comma-separated).
semantics: >-
  Records with action ACCEPT and log-status OK in the window whose dstport is one of `ports` and
  whose srcaddr is public (none of the private, shared, link-local or loopback ranges; documentation
  ranges count as public), grouped by srcaddr, dstaddr, dstport. first_seen and last_seen are the
  smallest start and the largest end (Unix seconds). Ordered by flows desc, srcaddr asc, dstaddr asc,
  dstport asc.
example:
  ports: [22, 3389, 5985, 5986]
columns:
  first_seen: unix_seconds
  last_seen: unix_seconds
needs:
  fields: [log-status, action, srcaddr, dstaddr, dstport, packets, bytes, start, end]
-#}
{{ ports_from_internet(ports) }}
