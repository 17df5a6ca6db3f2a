"""Who may join, and how: open sign-up, invitation codes, or closed (STUDIO_SIGNUP); which
names may be taken; and people's preferences."""

import functools
import secrets
import unicodedata
from datetime import timedelta

from confusable_homoglyphs import confusables
from django.conf import settings
from django.contrib.auth import get_user_model
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


def name_problem(username: str) -> str | None:
    """Why a new person may not take this name, or None. Django's validators have already
    checked its characters; this refuses names that look like someone else's: letters of
    several scripts that can be mistaken for one another ("аlice" with a Cyrillic а), and
    names whose confusables skeleton equals an existing person's ("ａｌｉｃｅ", "ALICE",
    "аӏісе" all look like "alice")."""
    if confusables.is_dangerous(username):
        return (
            "This name mixes letters from different alphabets that look alike; "
            "write it in one alphabet."
        )
    wanted = skeletons(username)
    people = get_user_model().objects.values_list("username", flat=True)
    if any(wanted & skeletons(existing) for existing in people.iterator()):
        return "This name looks like the name of someone already here; choose another."
    return None


def skeletons(text: str) -> set[str]:
    """What `text` looks like, in the manner of Unicode TR39's skeleton: compatibility forms
    folded away (NFKC), then every character replaced by the one its confusables class is
    written with (the Unicode confusables data that confusable-homoglyphs ships). Two: as
    written ("Ian" looks like "lan") and case-folded ("ALICE" is "alice"); two names that
    look alike share one."""
    compatible = unicodedata.normalize("NFKC", text)
    return {_skeleton(compatible), _skeleton(compatible.casefold())}


def _skeleton(text: str) -> str:
    table = _prototypes()
    mapped = "".join(table.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f")


@functools.cache
def _prototypes() -> dict[str, str]:
    """Character -> the string its confusables class is written with. The package keeps each
    pair of confusables.txt both ways, so the classes are rebuilt by joining pairs; a class
    whose prototype is several characters ("rn" for "m") is written with those, mapped in
    turn, and any other with its lowest code point (any fixed choice compares the same)."""
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for char, homoglyphs in confusables.confusables_data.items():
        for homoglyph in homoglyphs:
            a, b = root(char.translate(_BIDI_MARKS)), root(homoglyph["c"].translate(_BIDI_MARKS))
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for item in parent:
        members.setdefault(root(item), []).append(item)
    written: dict[str, str] = {}
    for group in members.values():
        longer = [item for item in group if len(item) > 1]
        written.update(dict.fromkeys(group, min(longer) if longer else min(group)))
    table = {item: value for item, value in written.items() if len(item) == 1}
    return {char: "".join(table.get(part, part) for part in value) for char, value in table.items()}


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
