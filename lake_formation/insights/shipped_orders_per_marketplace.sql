-- title: shipped orders per marketplace (last 30 days)
SELECT marketplace_id, currency, count(DISTINCT amazon_order_id) AS orders, sum(quantity) AS units,
       sum(item_price) AS sales
FROM orders
WHERE order_status = 'Shipped'
GROUP BY 1, 2
ORDER BY 1
