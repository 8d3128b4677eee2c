"""eBay: search pages (2025 s-card and legacy s-item), item pages, and the Browse API."""
