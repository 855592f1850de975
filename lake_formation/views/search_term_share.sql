/* ---
description: >-
  Brand Analytics per search term and week: how often shoppers search it (frequency rank), and the click and
  conversion share that the seller's own ASINs (those it lists in the marketplace) take of it.
grain: [marketplace_id, week_start, search_term]
columns:
  marketplace_id: the marketplace
  week_start: the Sunday the Brand Analytics week starts
  search_term: the search term
  search_frequency_rank: its rank by search frequency (1 the most searched)
  clicked_asins: ASINs among the term's most clicked (at most three)
  our_asins: how many of those the seller lists
  our_click_share: the click share of the seller's ASINs, 0 to 1
  our_conversion_share: the conversion share of the seller's ASINs, 0 to 1
--- */
WITH ours AS (
    SELECT DISTINCT marketplace_id, asin FROM merchant_listings
)
SELECT t.marketplace_id,
       t.period_start AS week_start,
       t.search_term,
       min(t.search_frequency_rank) AS search_frequency_rank,
       count(*) AS clicked_asins,
       count(o.asin) AS our_asins,
       round(coalesce(sum(CASE WHEN o.asin IS NOT NULL THEN t.click_share END), 0), 4) AS our_click_share,
       round(coalesce(sum(CASE WHEN o.asin IS NOT NULL THEN t.conversion_share END), 0), 4) AS our_conversion_share
FROM search_terms t
LEFT JOIN ours o ON o.marketplace_id = t.marketplace_id AND o.asin = t.clicked_asin
GROUP BY t.marketplace_id, t.period_start, t.search_term
