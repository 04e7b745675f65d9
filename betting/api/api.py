"""The JSON API under /api/v1/ (Django Ninja): its schema at /api/v1/openapi.json, its docs page
(Swagger UI from Ninja's own static files, no CDN) at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from betting.api import errors
from betting.api.endpoints import router

DESCRIPTION = """Sharpline's data for scripts: games with the market now, predictions, the scanner's edges,
your bankrolls and bets (record a bet, import a CSV), backtests.

Authenticate with a personal API token (make one at /account/tokens or with
`manage.py create_api_token`): `Authorization: Bearer shl_...`. Tokens of scope `read` may only read;
scope `bet` may also record bets, import and start backtests. Each token is rate limited
(API_RATE_LIMIT; 429 beyond it). Lists take `limit` and `offset` and answer `{count, limit, offset, items}`.
Errors are JSON: `{"error": "<code>", "reason": "<words>"}`."""

api = NinjaAPI(
    title="Sharpline API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)
api.add_router("", router)
