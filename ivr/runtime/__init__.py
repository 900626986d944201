"""One IVR session per call: the menu engine, node executors and self-service flows."""
