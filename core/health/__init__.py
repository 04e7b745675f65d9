"""Readiness: the checks named in ``HEALTH_CHECKS``, their history and alerts (``checks``), and the
``/health``, ``/ready``, ``/status`` and admin providers views (``views``)."""
