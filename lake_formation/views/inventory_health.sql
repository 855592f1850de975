/* ---
description: >-
  FBA inventory per ASIN and marketplace on the newest snapshot day: units on hand, inbound, unsellable, reserved
  and stranded (in a warehouse without an active FBA listing), with the units sold in the seven days before the
  snapshot and the days those units on hand would last at that pace.
grain: [marketplace_id, asin]
columns:
  marketplace_id: the marketplace
  asin: the ASIN
  snapshot_date: the snapshot's UTC day
  on_hand: fulfillable units
  inbound: units in inbound shipments (working, shipped, receiving)
  unsellable: unsellable units
  reserved: reserved units (customer orders, transfers, processing)
  stranded: fulfillable units of SKUs without an active FBA listing
  units_sold_7d: units ordered in the seven days before the snapshot (daily_sales)
  days_of_cover: on_hand divided by the daily pace of units_sold_7d, one decimal; null when nothing sold
--- */
WITH latest AS (
    SELECT marketplace_id, max(snapshot_date) AS snapshot_date
    FROM fba_inventory
    GROUP BY marketplace_id
), stock AS (
    SELECT i.marketplace_id,
           i.asin,
           i.snapshot_date,
           sum(i.afn_fulfillable_quantity) AS on_hand,
           sum(i.afn_inbound_working_quantity + i.afn_inbound_shipped_quantity + i.afn_inbound_receiving_quantity)
               AS inbound,
           sum(i.afn_unsellable_quantity) AS unsellable,
           sum(i.afn_reserved_quantity) AS reserved,
           sum(CASE WHEN i.afn_listing_exists = 'Yes' THEN 0 ELSE i.afn_fulfillable_quantity END) AS stranded
    FROM fba_inventory i
    JOIN latest l ON i.marketplace_id = l.marketplace_id AND i.snapshot_date = l.snapshot_date
    GROUP BY i.marketplace_id, i.asin, i.snapshot_date
), sold AS (
    SELECT s.marketplace_id, s.asin, sum(s.units_ordered) AS units
    FROM daily_sales s
    JOIN latest l ON s.marketplace_id = l.marketplace_id
    WHERE s.day >= date_add('day', -7, l.snapshot_date) AND s.day < l.snapshot_date
    GROUP BY s.marketplace_id, s.asin
)
SELECT k.marketplace_id,
       k.asin,
       k.snapshot_date,
       k.on_hand,
       k.inbound,
       k.unsellable,
       k.reserved,
       k.stranded,
       coalesce(s.units, 0) AS units_sold_7d,
       CASE WHEN coalesce(s.units, 0) > 0 THEN round(k.on_hand * 7.0 / s.units, 1) END AS days_of_cover
FROM stock k
LEFT JOIN sold s ON s.marketplace_id = k.marketplace_id AND s.asin = k.asin
