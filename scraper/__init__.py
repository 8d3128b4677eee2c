"""Fetching and parsing of marketplace pages: bytes and a URL in, RawListing records out."""
