"""What an operator sees of a running Playdeck: logs, request ids and Prometheus metrics."""
