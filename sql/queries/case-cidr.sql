{#-
title: Case records of a CIDR block
description: >-
  Everything the addresses of one CIDR block sent and received in the window, in one read of the
  table: in all, per peer and direction, per ENI, per hour, the rejected traffic and the ECS tasks.
  `flowsql investigate CIDR` writes its case file from these rows.
severity: info
tags: [investigation, case, cidr]
parameters:
  block:
    type: cidr
    required: true
    description: The block under investigation (IPv4 or IPv6), such as a subnet's.
semantics: >-
  Records with log-status OK in the window whose srcaddr or dstaddr is inside the block (an IPv4
  address is never inside an IPv6 block, nor the reverse); sent = srcaddr is inside, received =
  dstaddr is (a record between two addresses of the block is both). Summed per part: peer (per
  direction, outbound = sent and the dstaddr, inbound = received and the srcaddr, and address);
  interface; hour (start - start % 3600); rejected (REJECT records per
  direction, address, port = dstport, protocol); ecs (per ecs_cluster, ecs_service, ecs_task).
  Counts as case-address. Ordered by part, then the keys, ascending, nulls last.
example:
  block: 10.0.1.0/24
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
without:
  ecs-task-arn: no ECS task is named (the ecs-* fields of a version 7 log format name them)
-#}
{{ case_records('cidr', block) }}
