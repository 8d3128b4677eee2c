"""Scaling out: one active scheduler with standbys (``leader``), Celery workers that each scan one
search (``worker``, ``tasks``), the Celery app they share (``app``) and the cluster's status."""
