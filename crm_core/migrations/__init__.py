"""Alembic environment and revisions of the CRM schema, shipped inside the package."""
