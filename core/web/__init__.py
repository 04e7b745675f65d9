"""What every page shares: middleware, access and error pages (``pages``), the resilient page cache
(``cache``), chart figures (``charts``), how figures read (``formatting``) and the viewer's odds
format (``preferences``). Knows nothing about sports."""
