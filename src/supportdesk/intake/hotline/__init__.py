"""The hotline channel: a specialist logs a call; it becomes one InboundRequest."""
