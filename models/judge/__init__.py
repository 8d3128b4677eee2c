"""The judge: what a listing is and what it is worth. Pure: no database, no clock (`now` is passed in)."""
