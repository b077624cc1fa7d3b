{#-
title: Case records of an address
description: >-
  Everything one address sent and received in the window, in one read of the table: per ENI, peer,
  port, protocol, action and ECS task, and hour by hour. `flowsql investigate ADDRESS` writes its case
  file from these rows.
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
  record from the address to itself is both). Two groupings of the same records: part `traffic`
  grouped by interface_id, sent, received, srcaddr, dstaddr, dstport, protocol, action,
  ecs_cluster, ecs_service, ecs_task (hour null); part `hour` grouped by sent, received,
  hour (start - start % 3600) and action (the other columns null). flows = number of records, packets
  and bytes summed, first_seen = smallest start, last_seen = largest end (Unix seconds). Ordered by
  part, then every other column but the counts, ascending, nulls last.
example:
  address: 10.0.1.25
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, dstport, protocol, packets, bytes, start, end]
without:
  ecs-task-arn: no ECS task is named (the ecs-* fields of a version 7 log format name them)
-#}
{{ case_records('address', address) }}
