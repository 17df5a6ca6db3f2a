"""Personal API tokens: made (shown once), found from an Authorization header, revoked.

A token is 32 random bytes; only its sha256 is kept, so a database dump gives nobody a working
token. Tokens act as their owner: an inactive owner, a revoked or an expired token gets nothing.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from gallery.models import ApiToken

PREFIX = "studio-"
# How often last_used_at is written: once a minute is enough to say "used today", and a
# busy script does not turn every request into a write.
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, owner, name: str, days: int | None) -> tuple[ApiToken, str]:
    """A new token for `owner`, valid for `days` (None: until revoked). Returns the row and the
    token itself, which is never stored and cannot be shown again."""
    token = PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=days) if days else None
    row = ApiToken.objects.create(
        owner=owner,
        name=name,
        prefix=token[: len(PREFIX) + 4],
        digest=digest(token),
        expires_at=expires,
    )
    return row, token


def authenticate(authorization: str) -> ApiToken | None:
    """The active token named by an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    row = ApiToken.objects.select_related("owner").filter(digest=digest(token)).first()
    if row is None or not row.is_active or not row.owner.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def revoke(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
