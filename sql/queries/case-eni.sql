{#-
title: Case records of an ENI
description: >-
  Everything one network interface logged in the window, in one read of the table: in all, per peer
  and direction, per hour, the rejected traffic, the ECS tasks and what has no known direction.
  `flowsql investigate ENI` writes its case file from these rows.
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
  sent = srcaddr is one of `addresses`, received = dstaddr is (both null without `addresses`).
  Summed per part: peer (per direction, outbound = sent and the dstaddr,
  inbound = received and the srcaddr, and address); interface; hour (start - start % 3600); rejected
  (REJECT records per direction, address, port = dstport, protocol); ecs (per ecs_cluster,
  ecs_service, ecs_task); undirected (records neither sent nor received, per srcaddr as address,
  dstaddr as destination, port = dstport, protocol, action). Counts as case-address. Ordered by part,
  then the keys, ascending, nulls last.
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
