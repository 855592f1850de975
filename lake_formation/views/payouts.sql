/* ---
description: >-
  One row per settlement Amazon closed: its period, deposit date and total, and what it is made of (order
  amounts, refunds, and the fees Amazon kept, by type), from the V2 settlement reports. (Reserves: Amazon reports
  them as other-transaction lines, which the sandbox does not write yet.)
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
  commission_fees: the referral commissions (Commission), net of those refunded
  fulfillment_fees: the FBA fulfilment fees (FBAPerUnitFulfillmentFee)
  refund_administration_fees: what Amazon keeps of a refunded commission (RefundCommission)
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
       coalesce(sum(CASE WHEN amount_type = 'ItemFees' AND amount_description = 'Commission' THEN amount END), 0)
           AS commission_fees,
       coalesce(sum(CASE WHEN amount_type = 'ItemFees' AND amount_description = 'FBAPerUnitFulfillmentFee'
                         THEN amount END), 0) AS fulfillment_fees,
       coalesce(sum(CASE WHEN amount_type = 'ItemFees' AND amount_description = 'RefundCommission' THEN amount END),
                0) AS refund_administration_fees,
       count(transaction_type) AS amount_lines
FROM settlements
GROUP BY marketplace_id, settlement_id
