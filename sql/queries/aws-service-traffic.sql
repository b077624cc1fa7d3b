{#-
title: AWS service traffic
description: >-
  Traffic to AWS services by the service AWS names in the record (S3, DynamoDB, EC2, …) and action:
  how much goes to each service, from how many sources, and what is turned away.
severity: info
tags: [investigation, aws-services, egress, cost]
semantics: >-
  Records with log-status OK in the window that have a pkt-dst-aws-service (a v5 field; `-` counts
  as absent), grouped by it and action. sources is an exact count of distinct srcaddr. Ordered by
  bytes desc, service asc, action asc.
needs:
  fields: [log-status, action, srcaddr, packets, bytes, pkt-dst-aws-service]
-#}
SELECT
    pkt_dst_aws_service AS service,
    action,
    count(*) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    count(DISTINCT srcaddr) AS sources
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND pkt_dst_aws_service IS NOT NULL
GROUP BY pkt_dst_aws_service, action
ORDER BY bytes DESC, service ASC, action ASC
