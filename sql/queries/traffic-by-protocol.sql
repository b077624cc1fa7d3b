{#-
title: Traffic by protocol
description: >-
  Flows, packets and bytes per IP protocol number and IP version in the window, with how many flows
  were accepted and rejected: the mix of the traffic at a glance.
severity: info
tags: [investigation, traffic, protocol]
semantics: >-
  Records with log-status OK in the window, grouped by protocol (the IANA number) and ip_version (IPv6
  when srcaddr contains `:`, else IPv4); flows = number of records, packets and bytes summed,
  accepted_flows and rejected_flows = records with action ACCEPT and REJECT. Ordered by bytes desc
  (null last), protocol asc, ip_version asc.
needs:
  fields: [log-status, action, srcaddr, protocol, packets, bytes]
-#}
WITH records AS (
    SELECT
        protocol,
        action,
        packets,
        bytes,
        CASE WHEN strpos(srcaddr, ':') > 0 THEN 'IPv6' ELSE 'IPv4' END AS ip_version
    FROM {{ flow_logs }}
    WHERE
        {{ window() }}
        AND log_status = 'OK'
)

SELECT
    protocol,
    ip_version,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count_if(action = 'ACCEPT') AS accepted_flows,
    count_if(action = 'REJECT') AS rejected_flows
FROM records
GROUP BY protocol, ip_version
ORDER BY bytes DESC NULLS LAST, protocol ASC, ip_version ASC
