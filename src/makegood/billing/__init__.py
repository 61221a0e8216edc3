"""Billing: closing cycles into statements that carry make-good credits, and reading them back.

ledger (pure drafting rules), queries (SQL), close (the close service), statements (read model
and its public JSON).
"""
