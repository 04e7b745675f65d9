from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from betting.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Staff see and revoke tokens (set revoked at); tokens are made by their users or the command."""

    list_display = ("prefix", "user", "name", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("prefix", "user__username", "name")
    readonly_fields = ("user", "prefix", "key_hash", "scope", "created_at", "last_used_at")
    fields = ("user", "name", "prefix", "key_hash", "scope", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
