SELECT coalesce(f.subnet_id, e.subnet_id) AS subnet_id, count(*) AS rejected_flows, sum(packets) AS rejected_packets,
       sum(bytes) AS rejected_bytes, count(DISTINCT srcaddr) AS distinct_sources
FROM flow AS f
LEFT JOIN (SELECT interface_id, max(subnet_id) AS subnet_id FROM enis GROUP BY interface_id) AS e USING (interface_id)
WHERE log_status = 'OK' AND action = 'REJECT'
GROUP BY 1
ORDER BY rejected_flows DESC, subnet_id NULLS LAST
