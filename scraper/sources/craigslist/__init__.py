"""Craigslist: static search pages, posting pages and the sapi JSON search."""
