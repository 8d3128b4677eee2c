"""Alerts: rules decide, the outbox dispatcher delivers, mail renders and sends."""
