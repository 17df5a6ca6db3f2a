"""What the studio has spent: totals per person and per month, and a server-rendered SVG
chart of each person's cumulative spending over a period (no JavaScript, no chart library).
Spending is the actual cost the API reported (`Job.cost_usd`), dated by the job's request."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from gallery.models import Job

CHART_WIDTH, CHART_HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_RIGHT = 56, 28, 12, 12
MAX_SERIES = 8  # the chart's palette; more people are folded into the table only


def jobs_for(user):
    """Whose spending a person may see: their own; staff see everyone's."""
    jobs = Job.objects.all() if user.is_staff else Job.objects.filter(owner=user)
    return jobs.filter(cost_usd__gt=0)


def per_person_month(jobs, *, months: int = 6) -> list[dict]:
    """Rows of person, month, jobs and USD, newest month first."""
    since = (timezone.localdate().replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    return list(
        jobs.filter(created_at__date__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("owner__username", "month")
        .annotate(usd=Sum("cost_usd"), jobs=Count("id"))
        .order_by("-month", "-usd")
    )


def per_person(jobs) -> list[dict]:
    return list(
        jobs.values("owner__username")
        .annotate(usd=Sum("cost_usd"), jobs=Count("id"))
        .order_by("-usd")
    )


@dataclass(frozen=True)
class Series:
    person: str
    total: Decimal
    points: str  # SVG polyline points
    css: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_ticks: list[tuple[float, str]]  # (x, label)
    plot_left: int
    plot_bottom: int
    plot_right: int
    plot_top: int

    @property
    def is_empty(self) -> bool:
        return not self.series


def chart(jobs, *, days: int = 30) -> Chart:
    """Cumulative USD per person per day over the last `days` days, as polylines."""
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    rows = (
        jobs.filter(created_at__date__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("owner__username", "day")
        .annotate(usd=Sum("cost_usd"))
    )
    daily: dict[str, dict[date, Decimal]] = {}
    for row in rows:
        daily.setdefault(row["owner__username"], {})[row["day"]] = row["usd"]
    totals = {person: sum(by_day.values(), Decimal(0)) for person, by_day in daily.items()}
    people = sorted(totals, key=lambda person: totals[person], reverse=True)[:MAX_SERIES]
    top = _nice_ceiling(max(totals.values(), default=Decimal(0)))

    left, right = MARGIN_LEFT, CHART_WIDTH - MARGIN_RIGHT
    top_y, bottom = MARGIN_TOP, CHART_HEIGHT - MARGIN_BOTTOM

    def x(day_number: int) -> float:
        return left + (right - left) * day_number / max(days - 1, 1)

    def y(usd: Decimal) -> float:
        return bottom - (bottom - top_y) * float(usd / top)

    series = []
    for number, person in enumerate(people):
        running, points = Decimal(0), []
        for day_number in range(days):
            running += daily[person].get(start + timedelta(days=day_number), Decimal(0))
            points.append(f"{x(day_number):.1f},{y(running):.1f}")
        series.append(Series(person, totals[person], " ".join(points), f"series-{number}"))
    exponent = (top / 4).normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # "n", "N" or "F" only for NaN or infinity; top is finite
    places = min(4, max(2, -exponent))
    y_ticks = [(y(top * k / 4), f"${top * k / 4:.{places}f}") for k in range(5)]
    x_ticks = [
        (x(day_number), (start + timedelta(days=day_number)).strftime("%b %d"))
        for day_number in range(0, days, max(days // 5, 1))
    ]
    return Chart(CHART_WIDTH, CHART_HEIGHT, series, y_ticks, x_ticks, left, bottom, right, top_y)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 5 × 10^k (at least one cent) that is >= value."""
    step = Decimal("0.01")
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10
