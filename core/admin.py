from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import JobRun


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
