{#-
title: Load balancer traffic
description: >-
  Traffic arriving at each Elastic Load Balancing load balancer, by source and port: clients from
  the internet or the VPC, and the replies of its targets.
severity: info
tags: [investigation, elb, ingress]
parameters:
  limit:
    type: int
    default: 100
    min: 1
    max: 10000
    description: How many load balancer/source/port rows to return.
semantics: >-
  Records with action ACCEPT and log-status OK in the window, on an Elastic Load Balancing ENI of the
  inventory (a Description starting "ELB "), whose dstaddr is one of that ENI's addresses (traffic
  arriving at the load balancer). Grouped by load balancer (the Description without "ELB ", e.g.
  app/web-alb/0123456789abcdef), srcaddr, dstport. Ordered by bytes desc, load_balancer asc, srcaddr
  asc, dstport asc.
example:
  limit: 20
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, packets, bytes]
  inventory: [network-interfaces]
-#}
WITH elb_ips AS (
    SELECT DISTINCT
        i.interface_id,
        i.private_ip,
        substr(e.description, 5) AS load_balancer
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
    WHERE e.description LIKE 'ELB %'
)

SELECT
    l.load_balancer,
    f.srcaddr,
    f.dstport,
    count(*) AS flows,
    sum(f.packets) AS packets,
    sum(f.bytes) AS bytes
FROM {{ flow_logs }} AS f
INNER JOIN elb_ips AS l
    ON f.interface_id = l.interface_id AND {{ same_address(col('f.dstaddr'), col('l.private_ip')) }}
WHERE
    {{ window('f') }}
    AND f.log_status = 'OK'
    AND f.action = 'ACCEPT'
GROUP BY l.load_balancer, f.srcaddr, f.dstport
ORDER BY bytes DESC, l.load_balancer ASC, f.srcaddr ASC, f.dstport ASC
LIMIT {{ limit }}
