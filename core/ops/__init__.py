"""What the operator runs and controls: the break-glass endpoints (``endpoints``), recorded jobs
(``jobs``), backups (``backup``), the kill switch (``switches``), provider keys at rest (``secrets``)
and the alert channels (``notify``)."""
