/* ---
description: >-
  The seller's listings that Amazon reports an issue on, from the newest Listings Items snapshot of each
  marketplace: what a brand manager fixes first (an ERROR suppresses the offer).
grain: [marketplace_id, sku]
columns:
  marketplace_id: the marketplace
  sku: the seller SKU
  asin: the ASIN
  item_name: the listing's title
  issue_severity: the severity of its first issue (ERROR or WARNING)
  snapshot_date: the snapshot's UTC day
--- */
WITH latest AS (
    SELECT marketplace_id, max(snapshot_date) AS snapshot_date
    FROM listings_items
    GROUP BY marketplace_id
)
SELECT i.marketplace_id, i.sku, i.asin, i.item_name, i.issue_severity, i.snapshot_date
FROM listings_items i
JOIN latest l ON i.marketplace_id = l.marketplace_id AND i.snapshot_date = l.snapshot_date
WHERE i.issue_severity IS NOT NULL
