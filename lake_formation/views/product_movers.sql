/* ---
description: >-
  The ASINs that moved: units ordered in the last seven days of data against the seven days before, per
  marketplace, and the share of the fortnight's shipped sales that was refunded (from daily_sales: each order line
  at its latest status).
grain: [marketplace_id, asin]
columns:
  marketplace_id: the marketplace
  asin: the ASIN
  last_day: the newest day of the marketplace's sales data
  units_7d: units ordered in the seven days up to last_day
  units_prior_7d: units ordered in the seven days before those
  change: units_7d minus units_prior_7d
  change_percentage: the change against units_prior_7d, in percent (null when the prior week sold nothing)
  shipped_sales_14d: shipped sales of the lines ordered in the 14 days up to last_day
  refunds_14d: item prices refunded in those 14 days (negative)
  refund_rate_percentage: refunds_14d against shipped_sales_14d, in percent (null when nothing shipped)
--- */
WITH newest AS (
    SELECT marketplace_id, max(day) AS last_day
    FROM daily_sales
    GROUP BY marketplace_id
), weeks AS (
    SELECT d.marketplace_id,
           d.asin,
           n.last_day,
           sum(CASE WHEN d.day > date_add('day', -7, n.last_day) THEN d.units_ordered ELSE 0 END) AS units_7d,
           sum(CASE WHEN d.day <= date_add('day', -7, n.last_day) THEN d.units_ordered ELSE 0 END) AS units_prior_7d,
           sum(d.shipped_sales) AS shipped_sales_14d,
           sum(d.refunds) AS refunds_14d
    FROM daily_sales d
    JOIN newest n ON d.marketplace_id = n.marketplace_id
    WHERE d.day > date_add('day', -14, n.last_day)
    GROUP BY d.marketplace_id, d.asin, n.last_day
)
SELECT marketplace_id,
       asin,
       last_day,
       units_7d,
       units_prior_7d,
       units_7d - units_prior_7d AS change,
       CASE WHEN units_prior_7d > 0 THEN round((units_7d - units_prior_7d) * 100.0 / units_prior_7d, 1) END
           AS change_percentage,
       shipped_sales_14d,
       refunds_14d,
       CASE WHEN shipped_sales_14d > 0 THEN round(-refunds_14d * 100 / shipped_sales_14d, 1) END
           AS refund_rate_percentage
FROM weeks
