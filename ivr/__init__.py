"""Self-service IVR: menu flows of one call."""
