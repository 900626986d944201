"""Hotline composition root: settings, CLI and the wiring of the services."""
