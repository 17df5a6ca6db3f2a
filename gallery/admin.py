from django.contrib import admin

from .models import Attempt, Image, Job, Profile


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "started_at",
        "duration_ms",
        "outcome",
        "status_code",
        "request_id",
        "error",
    ]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "kind", "model", "status", "attempts", "cost_usd", "created_at"]
    list_filter = ["status", "kind", "model"]
    search_fields = ["prompt", "owner__username", "request_id"]
    raw_id_fields = ["owner"]
    readonly_fields = ["usage", "request_id", "started_at", "finished_at", "lease_expires_at"]
    inlines = [AttemptInline]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "owner",
        "source",
        "model",
        "width",
        "height",
        "provenance_state",
        "ai_generated",
        "created_at",
    ]
    list_filter = ["source", "provenance_state", "ai_generated", "model"]
    search_fields = ["prompt", "sha256", "owner__username"]
    raw_id_fields = ["owner", "job"]
    # The file and its fingerprint are facts about stored bytes, never edited by hand.
    readonly_fields = [
        "file",
        "sha256",
        "byte_size",
        "content_type",
        "width",
        "height",
        "thumbnail",
        "thumbnail_small",
        "provenance",
        "manifest_json",
    ]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "default_visibility", "monthly_budget_usd"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
