"""Who may see and change which jobs and images. Every view that reads or changes one goes
through here, so "private" means private everywhere.

Shared things are visible to every signed-in person, private ones to their owner and staff;
anonymous people see nothing. Anything a person may not see answers 404, and so does a
change by someone who is neither owner nor staff: a 403 would confirm the thing exists.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from gallery.models import Image, Job, Visibility


def visible_images(user) -> QuerySet[Image]:
    return Image.objects.visible_to(user)


def visible_jobs(user) -> QuerySet[Job]:
    return Job.objects.visible_to(user)


def image_for_viewer(user, pk, queryset: QuerySet[Image] | None = None) -> Image:
    """The image if `user` may see it, else Http404."""
    return _get(_or_all(queryset, Image).visible_to(user), pk)


def job_for_viewer(user, pk, queryset: QuerySet[Job] | None = None) -> Job:
    """The job if `user` may see it, else Http404."""
    return _get(_or_all(queryset, Job).visible_to(user), pk)


def image_for_owner(user, pk, queryset: QuerySet[Image] | None = None) -> Image:
    """The image if `user` owns it or is staff, else Http404 (never 403)."""
    return _get(_owned(_or_all(queryset, Image).filter(trashed_at__isnull=True), user), pk)


def job_for_owner(user, pk, queryset: QuerySet[Job] | None = None) -> Job:
    """The job if `user` owns it or is staff, else Http404 (never 403)."""
    return _get(_owned(_or_all(queryset, Job).filter(trashed_at__isnull=True), user), pk)


def image_for_deleter(user, pk) -> Image:
    """The image if `user` owns it or is staff, whether in the trash already or not (a second
    Delete is not an error), unless deleted forever; else Http404."""
    return _get(_owned(Image.objects.filter(purged_at__isnull=True), user), pk)


def job_for_deleter(user, pk) -> Job:
    """The job if `user` owns it or is staff, in the trash already or not; else Http404."""
    return _get(_owned(Job.objects.all(), user), pk)


def trashed_job_for_owner(user, pk) -> Job:
    """A job in the trash if `user` owns it or is staff, else Http404."""
    return _get(_owned(Job.objects.filter(trashed_at__isnull=False, purged_at=None), user), pk)


def trashed_images_for_owner(user, ids) -> QuerySet[Image]:
    """Of these ids, the trashed images `user` owns (all of them for staff); others are
    silently left out, as if they did not exist."""
    wanted = [pk for pk in (parse_id(i) for i in ids) if pk is not None]
    return _owned(Image.objects.filter(pk__in=wanted, trashed_at__isnull=False), user)


def images_for_owner(user, ids) -> QuerySet[Image]:
    """Of these ids, the images `user` may change (owner, or staff) that are not in the
    trash; others are left out."""
    wanted = [pk for pk in (parse_id(i) for i in ids) if pk is not None]
    return _owned(Image.objects.filter(pk__in=wanted, trashed_at__isnull=True), user)


def can_change(user, thing: Image | Job) -> bool:
    """Whether `user` may change (visibility, delete, cancel, retry) this job or image."""
    return bool(user.is_authenticated and (user.is_staff or thing.owner_id == user.pk))


def _or_all(queryset, model):
    # Never `queryset or ...`: that would evaluate the queryset.
    return model.objects.all() if queryset is None else queryset


def _owned(queryset, user):
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset if user.is_staff else queryset.filter(owner=user)


def parse_id(value) -> int | None:
    """A database id from text, or None: ASCII digits that fit a 64-bit integer."""
    value = str(value).strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


def _get(allowed: QuerySet, pk):
    # A view may pass a queryset with select_related/prefetch_related/only; the rule is
    # applied on top of it. Anything that is not a database id is simply not found.
    pk = parse_id(pk)
    try:
        if pk is None:
            raise allowed.model.DoesNotExist
        return allowed.get(pk=pk)
    except allowed.model.DoesNotExist:
        raise Http404(f"No such {allowed.model._meta.verbose_name}.") from None


def set_images_visibility(ids: list[int], visibility: str) -> int:
    """Make these images shared or private (the selection bar); the caller checked that the
    person may change each of them (images_for_owner)."""
    if visibility not in Visibility.values:
        raise ValueError(f"Unknown visibility {visibility!r}")
    return Image.objects.filter(pk__in=ids).update(visibility=visibility)


def set_visibility(*, target: Job | Image, visibility: str) -> None:
    """Make a job (with all its images) or one image shared or private. The caller has
    checked that the person may (gallery.access.*_for_owner)."""
    if visibility not in Visibility.values:
        raise ValueError(f"Unknown visibility {visibility!r}")
    with transaction.atomic():
        if isinstance(target, Job):
            # Lock the job first, as _record_success does, so images stored concurrently
            # get the new visibility too.
            list(Job.objects.select_for_update().filter(pk=target.pk).values_list("pk"))
            Job.objects.filter(pk=target.pk).update(visibility=visibility)
            Image.objects.filter(job_id=target.pk).update(visibility=visibility)
        else:
            Image.objects.filter(pk=target.pk).update(visibility=visibility)
    target.visibility = visibility
