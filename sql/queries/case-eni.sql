{#-
title: Case records of an ENI
description: >-
  Everything one network interface logged in the window, in one read of the table: per peer, port,
  protocol, action and ECS task, and hour by hour, with what it sent and received. `flowsql
  investigate ENI` writes its case file from these rows.
severity: info
tags: [investigation, case, eni]
parameters:
  eni:
    type: eni_id
    required: true
    description: The network interface (eni-…) under investigation.
  addresses:
    type: list[ip]
    description: >-
      The ENI's own addresses (investigate takes them from the inventory), to tell what it sent from
      what it received in records without flow-direction.
semantics: >-
  Records with log-status OK in the window whose interface-id is the ENI. sent = flow-direction is
  egress, received = it is ingress; in a record without flow-direction (a format without the field),
  sent = srcaddr is one of `addresses`, received = dstaddr is (both null without `addresses`). Two
  groupings of the same records: part `traffic` grouped by interface_id, sent, received, srcaddr,
  dstaddr, dstport, protocol, action, ecs_cluster, ecs_service, ecs_task (hour null);
  part `hour` grouped by sent, received, hour (start - start % 3600) and action (the other columns
  null). flows = number of records, packets and bytes summed, first_seen = smallest start, last_seen
  = largest end (Unix seconds). Ordered by part, then every other column but the counts, ascending,
  nulls last.
example:
  eni: eni-0a1b2c3d4e5f60718
  addresses: [10.0.1.25, 2600:1f18:0:1::25]
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
without:
  flow-direction: >-
    what the ENI sent and received comes from its addresses in the inventory (records of an ENI the
    inventory lacks have no direction)
  ecs-task-arn: no ECS task is named (the ecs-* fields of a version 7 log format name them)
-#}
{{ case_records('eni', eni, addresses) }}
