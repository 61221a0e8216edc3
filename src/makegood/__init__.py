"""makegood: outage make-good engine."""
