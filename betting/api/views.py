"""The signed-in user's API tokens page (/account/tokens) and the JSON 404 of unknown API paths."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from betting.api import tokens
from betting.api.errors import error_response
from betting.api.forms import TokenForm


@csrf_exempt  # no cookies are read: a JSON 404 whatever the method
def api_not_found(request: HttpRequest) -> JsonResponse:
    return error_response(404, f"no API endpoint at {request.path}: see /api/v1/openapi.json")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; make one (its secret shown on this answer only, never again)."""
    form = TokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            token, raw = tokens.token_create(
                user=request.user, scope=form.cleaned_data["scope"], name=form.cleaned_data["name"]
            )
            created = {"token": token, "raw": raw}
            form = TokenForm()
        else:
            status = 400
    context = {"form": form, "created": created, "tokens": list(tokens.tokens_of(request.user))}
    response = render(request, "api/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may hold a secret
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if tokens.token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: it no longer opens the API.")
    else:
        messages.error(request, "No such token of yours, or it was already revoked.")
    return redirect("api-tokens")
