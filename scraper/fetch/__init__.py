"""Fetching: the polite HTTP client, robots.txt, browser cookies, and one streamed GET."""
