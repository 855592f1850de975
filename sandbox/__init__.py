"""An offline Selling Partner API: LWA, reports with an asynchronous lifecycle, documents, and a synthetic world."""
