"""What an operator watches: /healthz (ready or not, and which limiter is in use) and /metrics
(Prometheus text format)."""
