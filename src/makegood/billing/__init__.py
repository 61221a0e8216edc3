"""Billing: closing cycles into statements that carry make-good credits, and reading them back.

queries (SQL), statements (read model and its public JSON), the connectors, inactive accounts;
the drafting rules are pure (domain/statements.py), the use cases in services/billing_*.py.
"""
