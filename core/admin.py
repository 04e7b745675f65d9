from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from core.models import ApiCredential, HealthEvent, JobRun, KillSwitch, OpsAudit
from core.ops import secrets, switches


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin[JobRun]):
    list_display = ["job", "started_at", "finished_at", "duration_display", "status", "short_error"]
    list_filter = ["status", "job"]
    search_fields = ["job", "error", "task_id"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    readonly_fields = ["job", "started_at", "finished_at", "status", "params", "counts", "error", "task_id"]

    @admin.display(description="Seconds")
    def duration_display(self, obj: JobRun) -> str:
        return "running" if obj.duration is None else f"{obj.duration:.1f}"

    @admin.display(description="Error")
    def short_error(self, obj: JobRun) -> str:
        first = obj.error.splitlines()[0] if obj.error else ""
        return first[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JobRun | None = None) -> bool:
        return False


class ApiCredentialForm(forms.ModelForm):  # type: ignore[type-arg]
    """The key is write-only: typed into a password field that is never filled back in, stored
    encrypted, shown masked. There is no way to read it back here."""

    provider = forms.ChoiceField(choices=[(name, name) for name in sorted(secrets.PROVIDERS)])
    new_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: leave empty to keep the stored key. Stored encrypted; never shown again.",
    )

    class Meta:
        model = ApiCredential
        fields = ["provider"]

    def clean(self) -> dict[str, Any]:  # the form's cleaned data: Django types it dict[str, Any]
        data: dict[str, Any] = super().clean() or {}
        value = data.get("new_key") or ""
        if self.instance.pk is None and not value:
            self.add_error("new_key", "Enter the key to store.")
        elif value:
            try:
                secrets.validate(data.get("provider") or self.instance.provider, value)
            except secrets.SecretsError as exc:
                self.add_error("new_key", str(exc))
        return data


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin[ApiCredential]):
    form = ApiCredentialForm
    list_display = ["provider", "masked_key", "fingerprint", "in_use", "updated_at", "rotated_at"]
    readonly_fields = ["masked_key", "fingerprint", "in_use", "created_at", "updated_at", "rotated_at"]

    def get_fields(self, request: HttpRequest, obj: ApiCredential | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("provider", "new_key")
        return ("provider", "masked_key", "new_key", "fingerprint", "in_use", "created_at", "updated_at", "rotated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiCredential | None = None) -> list[str]:
        fields = list(self.readonly_fields)
        return [*fields, "provider"] if obj is not None else fields

    @admin.display(description="Key")
    def masked_key(self, obj: ApiCredential) -> str:
        return obj.masked

    @admin.display(description="Used by the app")
    def in_use(self, obj: ApiCredential) -> str:
        source = secrets.api_key_source(obj.provider)
        if source == "environment":
            return f"no: {secrets.provider(obj.provider).setting} in the environment takes precedence"
        return "yes"

    @method_decorator(sensitive_post_parameters("new_key"))
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ApiCredential, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        value = form.cleaned_data.get("new_key") or ""
        if value:
            secrets.credential_fill(obj, value)
        obj.save()


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin[KillSwitch]):
    list_display = ["__str__", "effective", "reason", "changed_at", "changed_by"]
    fields = ["effective", "betting_stopped", "pulls_paused", "reason", "changed_at", "changed_by"]
    readonly_fields = ["effective", "changed_at", "changed_by"]

    @admin.display(description="In force")
    def effective(self, obj: KillSwitch) -> str:
        state = switches.switch_state()
        bets = "new bets STOPPED" if state.betting_stopped else "new bets allowed"
        if state.env_kill_switch:
            bets += " (BETTING_KILL_SWITCH is on in the environment)"
        return f"{bets}; {'pulls PAUSED' if state.pulls_paused else 'pulls running'}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not KillSwitch.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: KillSwitch | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: KillSwitch, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        switches.switch_set(
            betting_stopped=obj.betting_stopped,
            pulls_paused=obj.pulls_paused,
            reason=obj.reason,
            by=f"admin {request.user.get_username()}",
        )
        obj.pk = KillSwitch.SINGLETON


@admin.register(OpsAudit)
class OpsAuditAdmin(admin.ModelAdmin[OpsAudit]):
    list_display = ["created_at", "endpoint", "action", "outcome", "status_code", "remote_addr", "token_fingerprint"]
    list_filter = ["outcome", "endpoint", "action", "status_code", "method"]
    search_fields = ["remote_addr", "token_fingerprint", "user_agent", "detail"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = [
        "created_at",
        "endpoint",
        "method",
        "action",
        "outcome",
        "status_code",
        "remote_addr",
        "token_fingerprint",
        "user_agent",
        "params",
        "detail",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OpsAudit | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OpsAudit | None = None) -> bool:
        return False


@admin.register(HealthEvent)
class HealthEventAdmin(admin.ModelAdmin[HealthEvent]):
    """Read-only: the health job writes these on every change of a check's state."""

    list_display = ["at", "name", "old_state", "new_state", "critical", "short_detail"]
    list_filter = ["new_state", "old_state", "critical", "name"]
    search_fields = ["name", "detail"]
    date_hierarchy = "at"
    ordering = ["-at", "-pk"]
    readonly_fields = ["at", "name", "old_state", "new_state", "critical", "detail"]

    @admin.display(description="Detail")
    def short_detail(self, obj: HealthEvent) -> str:
        return obj.detail[:160]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: HealthEvent | None = None) -> bool:
        return False
