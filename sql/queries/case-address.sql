{#-
title: Case records of an address
description: >-
  Everything one address sent and received in the window, in one read of the table: in all, per peer
  and direction, per ENI, per hour, the rejected traffic and the ECS tasks. `flowsql investigate
  ADDRESS` writes its case file from these rows.
severity: info
tags: [investigation, case, address]
parameters:
  address:
    type: ip
    required: true
    description: The address under investigation (IPv4 or IPv6).
semantics: >-
  Records with log-status OK in the window whose srcaddr or dstaddr is the address (IPv6 in its
  compressed form, as flow logs write it); sent = srcaddr is the address, received = dstaddr is (a
  record from the address to itself is both). Summed per part: peer (per
  direction, outbound = sent and the dstaddr, inbound = received and the srcaddr, and address);
  interface; hour (start - start % 3600); rejected (REJECT records per direction, address, port =
  dstport, protocol); ecs (per ecs_cluster, ecs_service, ecs_task). Counts flows, packets, bytes,
  accepted and rejected flows, accepted packets and bytes, flows and bytes sent and received,
  first_seen = smallest start, last_seen = largest end (Unix seconds), and the distinct ports,
  protocols (peer rows) and interface ids, comma-separated. Ordered by part, then the keys,
  ascending, nulls last.
example:
  address: 10.0.1.25
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
without:
  ecs-task-arn: no ECS task is named (the ecs-* fields of a version 7 log format name them)
-#}
{{ case_records('address', address) }}
