"""Flask + Flask-Admin back office, agent desk, reports."""
