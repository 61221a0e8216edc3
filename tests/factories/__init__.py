"""Builders of test data: input files, and rows written through the production code paths."""
