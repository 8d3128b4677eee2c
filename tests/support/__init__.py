"""Helpers shared by the tests: local servers, a fake clock, configs pointed at a local market."""
