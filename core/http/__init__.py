"""Outbound HTTP: the one client every provider call goes through (``client``), and what it runs
each call through: the circuit breaker (``breaker``), the token bucket (``throttle``) and the quota
the responses report (``quota``)."""
