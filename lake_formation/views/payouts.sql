/* ---
description: >-
  One row per settlement Amazon closed: its period, deposit date and total, and what it is made of (order
  amounts, refunds, and the fees Amazon kept), from the V2 settlement reports.
grain: [marketplace_id, settlement_id]
columns:
  marketplace_id: the marketplace
  settlement_id: Amazon's settlement id
  period_start: the settlement period's first UTC day
  period_end: the UTC day the period ends (exclusive)
  deposit_date: the UTC day Amazon pays out
  currency: the settlement's currency
  total: the amount paid out (the report's total-amount)
  orders: the amounts of the period's orders (prices and their fees)
  refunds: the amounts of the period's refunds (negative)
  fees: the fees in those amounts (ItemFees; negative, a refunded fee positive)
  amount_lines: the settlement's amount lines
--- */
SELECT marketplace_id,
       settlement_id,
       CAST(max(settlement_start_date) AS DATE) AS period_start,
       CAST(max(settlement_end_date) AS DATE) AS period_end,
       CAST(max(deposit_date) AS DATE) AS deposit_date,
       max(currency) AS currency,
       max(total_amount) AS total,
       coalesce(sum(CASE WHEN transaction_type = 'Order' THEN amount END), 0) AS orders,
       coalesce(sum(CASE WHEN transaction_type = 'Refund' THEN amount END), 0) AS refunds,
       coalesce(sum(CASE WHEN amount_type = 'ItemFees' THEN amount END), 0) AS fees,
       count(transaction_type) AS amount_lines
FROM settlements
GROUP BY marketplace_id, settlement_id
