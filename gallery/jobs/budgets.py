"""Monthly spending limits: one per person (Profile.monthly_budget_usd) and one for the whole studio
(STUDIO_MONTHLY_BUDGET_USD). A job is checked before it is accepted, and the most it can cost
(its worst case: input images counted, `auto` at its dearest, every preview) is held against
both limits while it is queued or running, so parallel jobs cannot overspend whatever the API
resolves. Months are calendar months in the studio's time zone."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Case, DecimalField, F, Sum, When
from django.utils import timezone

from gallery.imagesapi import registry
from gallery.jobs.refused import Refused
from gallery.models import Job, Profile

# Any fixed number: the key of the PostgreSQL advisory lock that serializes budget checks.
LOCK_KEY = 7_000_007
NEAR = Decimal("0.8")  # "near the limit" from 80 % on


class OverBudget(Refused):
    """The job would take spending past a limit; the message says by how much."""


@dataclass(frozen=True)
class Standing:
    """Where one limit stands this month."""

    limit: Decimal
    spent: Decimal  # actual cost of this month's jobs
    reserved: Decimal  # estimates of unfinished jobs

    @property
    def used(self) -> Decimal:
        return self.spent + self.reserved

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.used, Decimal(0))

    @property
    def share(self) -> Decimal:
        return self.used / self.limit if self.limit else Decimal(1)

    @property
    def percent(self) -> int:
        return min(int(self.share * 100), 100)

    @property
    def is_near(self) -> bool:
        return self.share >= NEAR


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def studio_limit() -> Decimal | None:
    return settings.STUDIO_MONTHLY_BUDGET_USD


def person_limit(user) -> Decimal | None:
    return Profile.objects.filter(user=user).values_list("monthly_budget_usd", flat=True).first()


def set_person_limit(user, usd: Decimal | None) -> None:
    """Give a person a monthly limit in USD, or none (None)."""
    # A new profile starts from the site's default visibility, not the model's.
    Profile.objects.update_or_create(
        user=user,
        defaults={"monthly_budget_usd": usd},
        create_defaults={
            "monthly_budget_usd": usd,
            "default_visibility": settings.STUDIO_DEFAULT_VISIBILITY,
        },
    )


@dataclass(frozen=True)
class Estimate:
    """What a job is expected to cost, and the most it can cost (what is held)."""

    expected: Decimal
    held: Decimal


def _usage(jobs) -> tuple[Decimal, Decimal]:
    """(spent, reserved) of a job queryset this month."""
    unfinished = [Job.Status.QUEUED, Job.Status.RUNNING]
    money = DecimalField(max_digits=14, decimal_places=6)
    totals = jobs.filter(created_at__gte=month_start()).aggregate(
        spent=Sum("cost_usd"),
        reserved=Sum(
            Case(When(status__in=unfinished, then=F("held_usd")), default=0, output_field=money)
        ),
    )
    return totals["spent"] or Decimal(0), totals["reserved"] or Decimal(0)


def person_standing(user) -> Standing | None:
    limit = person_limit(user)
    if limit is None:
        return None
    return Standing(limit, *_usage(Job.objects.filter(owner=user)))


def studio_standing() -> Standing | None:
    limit = studio_limit()
    if limit is None:
        return None
    return Standing(limit, *_usage(Job.objects.all()))


def estimate(
    *, model: str, prompt: str, params: dict, inputs: Sequence[tuple[int, int]] = ()
) -> Estimate:
    """What a job with these saved inputs is expected to cost and can cost at most. `inputs`
    are the (width, height) of an edit's input images in order (then its markup layer): each
    is billed as input tokens. An unknown model is never accepted, so it costs nothing."""
    image_model = registry.get(model)
    if image_model is None:
        return Estimate(Decimal(0), Decimal(0))
    request = registry.Request.from_params(prompt, params, inputs)
    return Estimate(image_model.estimate(request), image_model.worst_case(request))


def lock() -> None:
    """Serialize budget checks until the surrounding transaction ends. SQLite's IMMEDIATE
    transactions already do (one writer at a time); PostgreSQL takes an advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def check(user, estimate: Estimate) -> None:
    """Raise OverBudget when a job that may cost up to `estimate.held` would pass the
    person's or the studio's monthly limit. Call it inside the transaction that records the
    job, after lock(), so the amount is held before anyone else checks."""
    for whose, standing in (("Your", person_standing(user)), ("The studio's", studio_standing())):
        if standing is not None and standing.used + estimate.held > standing.limit:
            held = f" (+ ${standing.reserved:.2f} held for unfinished jobs)"
            most = f" and can cost up to ${estimate.held:.4f}"
            raise OverBudget(
                f"{whose} monthly budget would be exceeded, so this job was not sent: "
                f"spent ${standing.spent:.2f} this month{held if standing.reserved else ''}, "
                f"this job is estimated at ${estimate.expected:.4f}"
                f"{most if estimate.held > estimate.expected else ''}, the limit is "
                f"${standing.limit:.2f}. Ask for fewer or smaller images or a lower quality, "
                "or ask an admin to raise the limit."
            )


def near_limit() -> list[tuple[object, Standing]]:
    """People at or above 80 % of their monthly budget, most used first (for admins)."""
    rows = []
    profiles = Profile.objects.filter(monthly_budget_usd__isnull=False).select_related("user")
    for profile in profiles:
        assert profile.monthly_budget_usd is not None  # filtered on above
        jobs = Job.objects.filter(owner=profile.user)
        standing = Standing(profile.monthly_budget_usd, *_usage(jobs))
        if standing.is_near:
            rows.append((profile.user, standing))
    return sorted(rows, key=lambda row: row[1].share, reverse=True)
