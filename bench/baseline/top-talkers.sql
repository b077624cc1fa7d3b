SELECT srcaddr, dstaddr, count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flow
WHERE log_status = 'OK'
GROUP BY srcaddr, dstaddr
ORDER BY bytes DESC NULLS LAST, srcaddr, dstaddr
LIMIT 20
