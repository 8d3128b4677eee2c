"""Entry points: the command line, scans, the scheduler, alerts and mail."""
