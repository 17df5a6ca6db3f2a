"""Who may join, and how: open sign-up, invitation codes, or closed (STUDIO_SIGNUP)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gallery.models import Invite, Job, Profile

INVITE_DAYS = 14


def signup_mode() -> str:
    return settings.STUDIO_SIGNUP


def create_invite(*, created_by, days: int = INVITE_DAYS) -> Invite:
    return Invite.objects.create(
        code=secrets.token_urlsafe(12),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )


def usable_invite(code: str) -> Invite | None:
    return Invite.objects.filter(
        code=code.strip(), used_by__isnull=True, expires_at__gt=timezone.now()
    ).first()


def redeem_invite(*, code: str, user) -> bool:
    """Mark the invite used by this person; False when someone else got there first."""
    with transaction.atomic():
        return bool(
            Invite.objects.filter(
                code=code.strip(), used_by__isnull=True, expires_at__gt=timezone.now()
            ).update(used_by=user, used_at=timezone.now())
        )


def default_visibility(user) -> str:
    """The visibility a person's new jobs and uploads get unless they choose otherwise."""
    return Profile.default_visibility_for(user)


def set_default_visibility(*, user, visibility: str) -> None:
    Profile.objects.update_or_create(user=user, defaults={"default_visibility": visibility})


def deactivate_people(people) -> int:
    """Stop people from signing in without losing anything they made: their jobs and images
    stay (shared ones stay visible), and Django refuses inactive accounts at sign-in and on
    every request of a session they already had. Their queued jobs are canceled so the API
    key spends nothing more on their behalf (a running one finishes)."""
    with transaction.atomic():
        ids = list(people.filter(is_active=True).values_list("pk", flat=True))
        people.model.objects.filter(pk__in=ids).update(is_active=False)
        Job.objects.filter(owner_id__in=ids, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELED,
            finished_at=timezone.now(),
            error="Canceled: the owner's account was deactivated.",
        )
    return len(ids)
