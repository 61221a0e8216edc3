"""Billing adapters: the connectors that hand credits to a billing system (Stripe, a signed
webhook, an export file), the reading of contract files, and the public shapes of statements
and credit states. Their SQL lives in store/ (uow.statements, uow.postings, uow.ledger, ...);
the drafting rules in domain/statements.py; the use cases in services/billing_*.py.
"""
