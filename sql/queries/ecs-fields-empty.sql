{#-
title: ECS fields left empty
description: >-
  The VPCs whose flow logs have the ecs-* fields (version 7) but whose records in the window name no
  ECS task: the flow log cannot read ECS, or the VPC runs no ECS task. The report shows each as a
  posture info row.
severity: info
tags: [logging-health, ecs, posture]
semantics: >-
  Records with log-status OK in the window from files whose format has ecs-cluster-name (the others
  are left out and named), grouped by aws_account_id, aws_region and vpc-id; kept when none of the
  group's records has an ecs-cluster-name (`-` counts as absent; every ecs-* field needs the
  permission ecs:ListClusters, so a task named in any field is named in this one). Columns
  aws_account_id, aws_region, vpc_id, flows (records), interfaces (distinct interface-id). Ordered by
  aws_account_id asc, aws_region asc, vpc_id asc (null last).
needs:
  fields: [log-status, vpc-id, interface-id, ecs-cluster-name]
-#}
SELECT
    aws_account_id,
    aws_region,
    vpc_id,
    count(*) AS flows,
    count(DISTINCT interface_id) AS interfaces
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
GROUP BY aws_account_id, aws_region, vpc_id
HAVING count(ecs_cluster_name) = 0
ORDER BY aws_account_id ASC, aws_region ASC, vpc_id ASC
