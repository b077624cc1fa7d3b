SELECT dstaddr, count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flow
WHERE log_status = 'OK' AND action = 'ACCEPT'
GROUP BY dstaddr
ORDER BY bytes DESC, dstaddr
LIMIT 10
