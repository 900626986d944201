"""The CRM/ERP of record: SQLAlchemy models and domain services (no Twisted, no Flask)."""
