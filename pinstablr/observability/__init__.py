"""Operations: request ids, structured logs and Prometheus metrics for web and workers."""
