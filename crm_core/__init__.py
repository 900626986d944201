"""The CRM/ERP of record: SQLAlchemy models and domain services (no Twisted, no Flask).

- ``db``: the declarative base, ``make_engine``, ``session_factory``, ``transaction``.
- ``types``, ``enums``: shared column types (aware UTC timestamps, money) and vocabularies.
- ``models``: one module per domain (customers, catalogue, inventory, orders, service,
  contact center, campaigns, admin).
- ``services``: plain functions taking a Session (they flush, the caller commits);
  errors are the typed ``exceptions`` with stable ``error_id`` strings.
- ``migrate`` and ``migrations/``: Alembic, run from Python or ``hotline db``.
"""
