{#-
title: Port scan suspects
description: >-
  Sources that were turned away on many ports (a vertical scan of a host) or on many hosts (a sweep
  of one port across addresses), from the internet or from inside your network, with how much of
  their traffic got through.
severity: medium
tags: [investigation, security, reject, scan]
why: >-
  A scan is reconnaissance: the source is mapping what listens where, before an attack. From the
  internet it is common but shows who is targeting you; from inside a VPC it is a strong sign of a
  compromised host moving laterally. Where flows exceed rejected_flows, some of its traffic was
  accepted: a port it found open.
remediation: >-
  For an internal source, isolate and investigate the host (its security group, its processes, its
  credentials). For an internet source, block it at the network ACL or AWS Network Firewall if it
  persists, and check what it reached (traffic-from-address); keep security groups closed to every
  port the internet does not need.
parameters:
  min_ports:
    type: int
    default: 10
    min: 1
    max: 65536
    description: A source that probed at least this many distinct destination ports is listed.
  min_hosts:
    type: int
    default: 10
    min: 1
    max: 100000
    description: A source that probed at least this many distinct destination addresses is listed.
semantics: >-
  Log-status OK records in the window, grouped by srcaddr. A probe is a record with action REJECT and
  srcport >= dstport (a reply runs from the service's port to the client's higher ephemeral port, so
  a host whose replies a stateless network ACL rejects is not counted as scanning; ICMP and other
  protocols without ports log 0 and 0 and count). ports and hosts are exact counts of the distinct
  dstport and dstaddr of the source's probes; flows counts all its records, rejected_flows those with
  action REJECT. Only sources with ports >= min_ports or hosts >= min_hosts. Ordered by ports + hosts
  desc, srcaddr asc.
example:
  min_ports: 20
  min_hosts: 5
needs:
  fields: [log-status, action, srcaddr, dstaddr, srcport, dstport]
-#}
WITH sources AS (
    -- one pass over the records: Athena bills every scan of the table
    SELECT
        srcaddr,
        count(DISTINCT CASE WHEN action = 'REJECT' AND srcport >= dstport THEN dstport END) AS ports,
        count(DISTINCT CASE WHEN action = 'REJECT' AND srcport >= dstport THEN dstaddr END) AS hosts,  -- noqa: RF04
        count(*) AS flows,
        count_if(action = 'REJECT') AS rejected_flows
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
    GROUP BY srcaddr
)

SELECT
    srcaddr,
    ports,
    hosts,
    flows,
    rejected_flows
FROM sources
WHERE ports >= {{ min_ports }} OR hosts >= {{ min_hosts }}
ORDER BY ports + hosts DESC, srcaddr ASC
