"""Observability: Prometheus metrics and structured logs without personal data (issue 7)."""
