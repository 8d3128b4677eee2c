"""Reddit trade subreddits: listing JSON, and prices read from post bodies."""
