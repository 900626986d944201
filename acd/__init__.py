"""ACD: agents, queues, routing, callbacks, dialer (issue #5)."""
