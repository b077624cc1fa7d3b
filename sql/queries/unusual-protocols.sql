{#-
title: Unusual protocols
description: >-
  Traffic in IP protocols other than the expected ones (ICMP, TCP, UDP, ICMPv6 by default): GRE
  tunnels, IPsec ESP, and anything rarer, per protocol, source, destination and action.
severity: low
tags: [investigation, security, protocol]
why: >-
  Most workloads speak only TCP, UDP and ICMP. Another protocol is a tunnel (GRE, IP-in-IP, ESP) that
  carries traffic your security groups and flow logs cannot see inside, a misconfigured appliance, or
  covert-channel tooling; each should have an owner who expected it.
remediation: >-
  Find the owner of each source and destination and confirm the protocol is intended (a VPN, a
  GRE tunnel to a router); add it to `expected` when it is. Otherwise remove the security-group and
  network ACL rules that allow all protocols (-1) and allow only the ones the workload needs.
parameters:
  expected:
    type: list[protocol]
    default: [1, 6, 17, 58]
    description: The IP protocol numbers (or names icmp, tcp, udp, gre, esp, icmpv6) that are not reported.
semantics: >-
  Records with log-status OK in the window whose protocol is set (not `-`) and not one of `expected`,
  grouped by protocol, srcaddr, dstaddr, action; flows = number of records, packets and bytes summed.
  Ordered by flows desc, protocol asc, srcaddr asc, dstaddr asc, action asc.
example:
  expected: [tcp, udp, icmp, icmpv6, esp]
needs:
  fields: [log-status, action, srcaddr, dstaddr, protocol, packets, bytes]
-#}
SELECT
    protocol,
    srcaddr,
    dstaddr,
    action,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND protocol IS NOT NULL
    AND protocol NOT IN ({{ expected }})
GROUP BY protocol, srcaddr, dstaddr, action
ORDER BY flows DESC, protocol ASC, srcaddr ASC, dstaddr ASC, action ASC
