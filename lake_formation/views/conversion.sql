/* ---
description: >-
  Traffic and conversion per marketplace and day (Sales and Traffic by date): sessions, page views, the share of
  sessions that ordered, and the buy-box share; restated by Amazon until seven days after the day.
grain: [marketplace_id, day]
columns:
  marketplace_id: the marketplace
  day: the UTC day
  sessions: sessions (visits) that day
  page_views: page views that day
  units_ordered: units ordered that day
  unit_session_percentage: units ordered per 100 sessions
  buy_box_percentage: the share of page views with the buy box, in percent
--- */
SELECT marketplace_id,
       "date" AS day,
       sessions,
       page_views,
       units_ordered,
       unit_session_percentage,
       buy_box_percentage
FROM sales_and_traffic_by_date
