{#-
title: VPC endpoint traffic
description: >-
  Traffic arriving at each interface VPC endpoint (AWS PrivateLink), by source and action: who in
  the network uses which endpoint, and what its security group turns away.
severity: info
tags: [investigation, vpc-endpoint, privatelink]
semantics: >-
  Records with log-status OK in the window (accepted and rejected), on an interface endpoint ENI of
  the inventory (InterfaceType vpc_endpoint), whose dstaddr is one of that ENI's addresses. Grouped by
  endpoint (the vpce- id in the Description "VPC Endpoint Interface vpce-…"; null when the Description
  has none), srcaddr, action. Ordered by bytes desc, endpoint asc, srcaddr asc, action asc.
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, packets, bytes]
  inventory: [network-interfaces]
-#}
WITH endpoint_ips AS (
    SELECT DISTINCT
        i.interface_id,
        i.private_ip,
        -- no match: NULL on Trino, '' on DuckDB; nullif makes both NULL
        nullif(regexp_extract(e.description, 'vpce-[0-9a-f]+'), '') AS endpoint
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
    WHERE e.interface_type = 'vpc_endpoint'
)

SELECT
    v.endpoint,
    f.srcaddr,
    f.action,
    count(*) AS flows,
    sum(f.packets) AS packets,
    sum(f.bytes) AS bytes
FROM {{ flow_logs }} AS f
INNER JOIN endpoint_ips AS v
    ON f.interface_id = v.interface_id AND {{ same_address(col('f.dstaddr'), col('v.private_ip')) }}
WHERE
    {{ window('f') }}
    AND f.log_status = 'OK'
GROUP BY v.endpoint, f.srcaddr, f.action
ORDER BY bytes DESC, v.endpoint ASC, f.srcaddr ASC, f.action ASC
