"""Who may join, and how: open sign-up, invitation codes, or closed (STUDIO_SIGNUP)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Invite

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
