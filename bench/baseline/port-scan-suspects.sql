SELECT srcaddr,
       count(DISTINCT dstport) FILTER (WHERE action = 'REJECT' AND srcport >= dstport) AS ports,
       count(DISTINCT dstaddr) FILTER (WHERE action = 'REJECT' AND srcport >= dstport) AS hosts,
       count(*) AS flows, count(*) FILTER (WHERE action = 'REJECT') AS rejected_flows
FROM flow
WHERE log_status = 'OK'
GROUP BY srcaddr
HAVING ports >= 10 OR hosts >= 10
ORDER BY ports + hosts DESC, srcaddr
