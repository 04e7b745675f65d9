"""Writes for the games app, one module per pipeline.

- ``reference``: the bundled leagues, teams and aliases (``games/reference/``).
- ``archive``: season files (SBR, Kaggle) imported whole or not at all.
- ``odds``: live odds snapshots (The Odds API), appended only when a price moves.
- ``scores``: live schedules, statuses and final scores (ESPN).
- ``injuries``: injury reports (ESPN, CBS).

What they share: ``teams`` (the one team-name resolution step: aliases, ignored and unresolved
names), ``_merge`` (the final-score rule) and ``common`` (errors, lookups, small helpers).
Every write is idempotent: natural keys, and a second run with the same input changes no row.
"""
