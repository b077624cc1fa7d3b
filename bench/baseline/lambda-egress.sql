-- A hand-written DuckDB user classifies with the same integer trick flowsql uses: no extension.
WITH lambda_ips AS (
    SELECT DISTINCT i.interface_id, i.ip FROM eni_ips AS i JOIN enis AS e USING (interface_id)
    WHERE e.interface_type = 'lambda' OR e.description LIKE 'AWS Lambda VPC ENI%'
),
egress AS (
    SELECT f.dstaddr, f.dstport, f.protocol, count(*) AS flows, sum(f.packets) AS packets, sum(f.bytes) AS bytes
    FROM flow AS f JOIN lambda_ips AS l ON f.interface_id = l.interface_id AND f.srcaddr = l.ip
    WHERE f.log_status = 'OK' AND f.action = 'ACCEPT'
    GROUP BY ALL
)
SELECT dstaddr, dstport, protocol, flows, packets, bytes
FROM egress
ORDER BY bytes DESC, dstaddr, dstport, protocol
LIMIT 100
