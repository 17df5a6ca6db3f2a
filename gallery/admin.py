from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from gallery import access, accounts
from gallery.models import Attempt, Image, Job, Profile, Visibility


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
    list_display = [
        "id",
        "owner",
        "kind",
        "model",
        "status",
        "visibility",
        "attempts",
        "cost_usd",
        "created_at",
    ]
    list_filter = ["status", "kind", "visibility", "model"]
    search_fields = ["prompt", "owner__username", "request_id"]
    raw_id_fields = ["owner"]
    # Visibility changes go through the actions, which carry a job's images along.
    readonly_fields = [
        "visibility",
        "usage",
        "request_id",
        "started_at",
        "finished_at",
        "lease_expires_at",
    ]
    inlines = [AttemptInline]
    actions = ["make_private", "make_shared"]

    @admin.action(description="Make private (with their images)")
    def make_private(self, request, queryset):
        _set_visibility(self, request, queryset, Visibility.PRIVATE)

    @admin.action(description="Share with everyone (with their images)")
    def make_shared(self, request, queryset):
        _set_visibility(self, request, queryset, Visibility.SHARED)


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
        "visibility",
        "created_at",
    ]
    list_filter = ["source", "visibility", "provenance_state", "ai_generated", "model"]
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
    actions = ["make_private", "make_shared"]

    @admin.action(description="Make private")
    def make_private(self, request, queryset):
        _set_visibility(self, request, queryset, Visibility.PRIVATE)

    @admin.action(description="Share with everyone")
    def make_shared(self, request, queryset):
        _set_visibility(self, request, queryset, Visibility.SHARED)


def _set_visibility(model_admin, request, queryset, visibility: str) -> None:
    for target in queryset:
        access.set_visibility(target=target, visibility=visibility)
    model_admin.message_user(request, f"{queryset.count()} made {visibility}.", messages.SUCCESS)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    verbose_name_plural = "Studio preferences"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    """Django's user admin, plus deactivation: people who leave keep their images (jobs and
    images protect their owner from deletion), cannot sign in, and their shared images stay
    in the gallery."""

    inlines = [ProfileInline]
    actions = ["deactivate", "reactivate"]

    @admin.action(description="Deactivate (cannot sign in; images are kept)")
    def deactivate(self, request, queryset):
        count = accounts.deactivate_people(queryset.exclude(pk=request.user.pk))
        self.message_user(
            request,
            f"{count} deactivated. Their images stay; their sessions end on their next request.",
            messages.SUCCESS,
        )

    @admin.action(description="Reactivate")
    def reactivate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} reactivated.", messages.SUCCESS)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "default_visibility", "monthly_budget_usd"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
