/* ---
description: >-
  Sales per ASIN, marketplace and day: units ordered and shipped sales of the order lines purchased that day, each
  line at its latest status (the newer of the order report and the by-last-update feed), and the item prices Amazon
  refunded that day in the settlements (net of both).
grain: [marketplace_id, asin, day]
columns:
  marketplace_id: the marketplace
  asin: the ASIN
  day: the UTC day (of purchase for units and sales, of posting for refunds)
  currency: the marketplace's currency
  units_ordered: units of the lines purchased that day and not cancelled
  order_lines: order lines purchased that day and not cancelled
  shipped_sales: item prices of those lines that have shipped
  refunds: item prices (principal and tax) refunded that day, negative
  net_sales: shipped_sales plus refunds
--- */
WITH versions AS (
    SELECT marketplace_id, amazon_order_id, sku, asin, purchase_day, order_status, quantity, item_price, currency,
           last_updated_date, 1 AS feed
    FROM order_updates
    UNION ALL
    SELECT marketplace_id, amazon_order_id, sku, asin, purchase_day, order_status, quantity, item_price, currency,
           last_updated_date, 2 AS feed
    FROM orders
), lines AS (
    SELECT *,
           row_number() OVER (PARTITION BY marketplace_id, amazon_order_id, sku
                              ORDER BY last_updated_date DESC, feed) AS newest
    FROM versions
), sales AS (
    SELECT marketplace_id,
           asin,
           purchase_day AS day,
           max(currency) AS currency,
           sum(CASE WHEN order_status <> 'Cancelled' THEN quantity ELSE 0 END) AS units_ordered,
           count_if(order_status <> 'Cancelled') AS order_lines,
           sum(CASE WHEN order_status = 'Shipped' THEN item_price ELSE 0 END) AS shipped_sales
    FROM lines
    WHERE newest = 1
    GROUP BY marketplace_id, asin, purchase_day
), skus AS (
    SELECT DISTINCT marketplace_id, sku, asin FROM lines
), refunds AS (
    SELECT s.marketplace_id, k.asin, s.posted_date AS day, max(s.currency) AS currency, sum(s.amount) AS refunds
    FROM settlements s
    JOIN skus k ON s.marketplace_id = k.marketplace_id AND s.sku = k.sku
    WHERE s.transaction_type = 'Refund' AND s.amount_type = 'ItemPrice'
    GROUP BY s.marketplace_id, k.asin, s.posted_date
)
SELECT coalesce(a.marketplace_id, r.marketplace_id) AS marketplace_id,
       coalesce(a.asin, r.asin) AS asin,
       coalesce(a.day, r.day) AS day,
       coalesce(a.currency, r.currency) AS currency,
       coalesce(a.units_ordered, 0) AS units_ordered,
       coalesce(a.order_lines, 0) AS order_lines,
       coalesce(a.shipped_sales, 0) AS shipped_sales,
       coalesce(r.refunds, 0) AS refunds,
       coalesce(a.shipped_sales, 0) + coalesce(r.refunds, 0) AS net_sales
FROM sales a
FULL OUTER JOIN refunds r ON a.marketplace_id = r.marketplace_id AND a.asin = r.asin AND a.day = r.day
