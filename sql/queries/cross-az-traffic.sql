{#-
title: Cross-AZ traffic
description: >-
  Traffic between Availability Zones, by source and destination zone: data sent from an ENI in one
  zone to an ENI in another zone of the same region is billed in each direction.
severity: info
tags: [cost, traffic, availability-zone]
semantics: >-
  Records with action ACCEPT and log-status OK in the window whose srcaddr is one of the logging
  ENI's own addresses (traffic it sent; the ENI must be in the inventory) and whose dstaddr belongs to
  another ENI of the inventory in a subnet whose AvailabilityZoneId differs from the record's az-id.
  The destination ENIs are those whose subnet has an AvailabilityZoneId and an AvailabilityZone in
  the record's region; those in the logging ENI's VPC are preferred to the others, and an address
  whose preferred ENIs lie in more than one zone (an address reused or overlapping VPCs) is ambiguous
  and not counted. Grouped by az-id and the destination's zone. Ordered by bytes desc, source_az asc,
  destination_az asc.
needs:
  fields: [log-status, action, interface-id, srcaddr, dstaddr, packets, bytes, az-id]
  inventory: [network-interfaces, subnets]
-#}
WITH own_ips AS (
    SELECT DISTINCT
        i.interface_id,
        i.private_ip,
        e.vpc_id
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
),

eni_places AS (
    -- every inventory address with its ENI, VPC and zone (the destinations)
    SELECT DISTINCT
        i.private_ip,
        i.interface_id,
        e.vpc_id,
        s.availability_zone,
        s.availability_zone_id
    FROM {{ inventory_eni_ips }} AS i
    INNER JOIN {{ inventory_enis }} AS e ON i.interface_id = e.interface_id
    LEFT JOIN {{ inventory_subnets }} AS s ON e.subnet_id = s.subnet_id
),

sent AS (
    -- aggregated first: the destination is looked up once per ENI and address
    SELECT
        f.interface_id,
        f.aws_region,
        f.az_id,
        f.dstaddr,
        o.vpc_id,
        count(*) AS flows,
        sum(f.packets) AS packets,
        sum(f.bytes) AS bytes
    FROM {{ flow_logs }} AS f
    INNER JOIN own_ips AS o
        ON f.interface_id = o.interface_id AND {{ same_address(col('f.srcaddr'), col('o.private_ip')) }}
    WHERE
        {{ window('f') }}
        AND f.log_status = 'OK'
        AND f.action = 'ACCEPT'
    GROUP BY f.interface_id, f.aws_region, f.az_id, f.dstaddr, o.vpc_id
),

-- each sent group with the ENIs its destination may be (one pass over `sent`: Trino does not
-- materialise a WITH query, so a second reference would read the flow-log table again)
candidates AS (
    SELECT
        s.interface_id,
        s.aws_region,
        s.az_id,
        s.dstaddr,
        s.flows,
        s.packets,
        s.bytes,
        p.availability_zone_id AS dest_zone,
        CASE WHEN p.vpc_id = s.vpc_id THEN 1 ELSE 0 END AS same_vpc
    FROM sent AS s
    INNER JOIN eni_places AS p
        ON {{ same_address(col('s.dstaddr'), col('p.private_ip')) }} AND s.interface_id <> p.interface_id
    WHERE
        p.availability_zone_id IS NOT NULL
        AND starts_with(p.availability_zone, s.aws_region)
),

preferred AS (
    SELECT
        c.interface_id,
        c.aws_region,
        c.az_id,
        c.dstaddr,
        c.flows,
        c.packets,
        c.bytes,
        c.dest_zone,
        c.same_vpc,
        max(c.same_vpc) OVER (PARTITION BY c.interface_id, c.aws_region, c.az_id, c.dstaddr) AS best
    FROM candidates AS c
),

-- the destination's zone where the preferred candidates agree on one (else the record is not counted)
resolved AS (
    SELECT
        interface_id,
        aws_region,
        az_id,
        dstaddr,
        flows,
        packets,
        bytes,
        min(dest_zone) AS dest_zone
    FROM preferred
    WHERE same_vpc = best
    GROUP BY interface_id, aws_region, az_id, dstaddr, flows, packets, bytes
    HAVING count(DISTINCT dest_zone) = 1
)

SELECT
    az_id AS source_az,
    dest_zone AS destination_az,
    sum(flows) AS flows,
    sum(packets) AS packets,
    sum(bytes) AS bytes
FROM resolved
WHERE az_id <> dest_zone
GROUP BY az_id, dest_zone
ORDER BY bytes DESC, source_az ASC, destination_az ASC
