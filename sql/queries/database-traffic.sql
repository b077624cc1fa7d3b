{#-
title: Database traffic
description: >-
  Who connects to the RDS databases and ElastiCache nodes: clients, ports and actions seen on the
  databases' own ENIs.
severity: info
tags: [investigation, database, rds, elasticache]
semantics: >-
  Records with log-status OK in the window (accepted and rejected) on an RDS or ElastiCache ENI of
  the inventory, whose dstaddr is one of that ENI's addresses (clients connecting). An ENI is rds when
  its RequesterId is amazon-rds or its Description is RDSNetworkInterface, elasticache when its
  RequesterId is amazon-elasticache or its Description starts with ElastiCache. Grouped by service,
  interface-id, srcaddr, dstport, action. Ordered by bytes desc, service asc, interface_id asc, srcaddr
  asc, dstport asc, action asc.
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, packets, bytes]
  inventory: [network-interfaces]
-#}
WITH database_enis AS (
    SELECT
        interface_id,
        CASE
            WHEN requester_id = 'amazon-rds' OR description = 'RDSNetworkInterface' THEN 'rds'
            ELSE 'elasticache'
        END AS service
    FROM {{ inventory_enis }}
    WHERE
        requester_id IN ('amazon-rds', 'amazon-elasticache')
        OR description = 'RDSNetworkInterface'
        OR description LIKE 'ElastiCache%'
),

database_ips AS (
    SELECT DISTINCT
        d.service,
        i.interface_id,
        i.private_ip
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN database_enis AS d ON i.interface_id = d.interface_id
)

SELECT
    d.service,
    f.interface_id,
    f.srcaddr,
    f.dstport,
    f.action,
    count(*) AS flows,
    sum(f.packets) AS packets,
    sum(f.bytes) AS bytes
FROM {{ flow_logs }} AS f
INNER JOIN database_ips AS d
    ON f.interface_id = d.interface_id AND {{ same_address(col('f.dstaddr'), col('d.private_ip')) }}
WHERE
    {{ window('f') }}
    AND f.log_status = 'OK'
GROUP BY d.service, f.interface_id, f.srcaddr, f.dstport, f.action
ORDER BY bytes DESC, d.service ASC, f.interface_id ASC, f.srcaddr ASC, f.dstport ASC, f.action ASC
