-- title: settlement payouts
SELECT marketplace_id, settlement_id, CAST(settlement_start_date AS DATE) AS starts, total_amount, currency
FROM settlements
WHERE transaction_type IS NULL
ORDER BY 1, 3
LIMIT 6
