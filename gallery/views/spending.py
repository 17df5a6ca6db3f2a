"""What the studio has spent: per person, per month, and as a chart."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from gallery.jobs import budgets, spending


@login_required
@require_GET
def spending_page(request):
    jobs = spending.jobs_for(request.user)
    context = {
        "chart": spending.chart(jobs),
        "people": spending.per_person(jobs),
        "months": spending.per_person_month(jobs),
        "standing": budgets.person_standing(request.user),
        "month_start": budgets.month_start(),
        "now": timezone.now(),
    }
    if request.user.is_staff:
        context |= {"studio": budgets.studio_standing(), "near_limit": budgets.near_limit()}
    return render(request, "gallery/spending.html", context)
