from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

if TYPE_CHECKING:
    from gallery.browse import search


class Visibility(models.TextChoices):
    """Who sees a job and its images: every signed-in person, or only the owner and staff."""

    SHARED = "shared", "Shared"
    PRIVATE = "private", "Private"


class JobQuerySet(models.QuerySet["Job"]):
    def claim(self, pk: int, *, lease: timedelta, holder: str = "") -> "Job | None":
        """Move a due, queued job to running and return it; None when someone else has it,
        it is finished, or its next attempt is not due yet. The conditional UPDATE's row
        count decides who wins, so two workers can never both run one job."""
        now = timezone.now()
        won = (
            self.filter(pk=pk, status=Job.Status.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(
                status=Job.Status.RUNNING,
                started_at=now,
                attempts=F("attempts") + 1,
                lease_expires_at=now + lease,
                lease_holder=holder,
            )
        )
        return self.get(pk=pk) if won else None

    def due(self):
        """Queued jobs whose next attempt may start now."""
        return self.filter(status=Job.Status.QUEUED).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
        )

    def unfinished(self):
        return self.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])

    def cancel(self, pk: int) -> str | None:
        """Mark a queued or running job canceled; the status it had, or None when it was
        already finished. Conditional like claim(), so a cancel and a claim never both win."""
        for status in (Job.Status.QUEUED, Job.Status.RUNNING):
            won = self.filter(pk=pk, status=status).update(
                status=Job.Status.CANCELED,
                finished_at=timezone.now(),
                lease_expires_at=None,
                error="",
            )
            if won:
                return status
        return None

    def visible_to(self, user):
        """Shared jobs and the person's own; staff see all; anonymous people none."""
        return _visible_to(self, user)

    def kept(self):
        """Jobs not in the trash, with their images that are not in the trash (prefetched)."""
        images = models.Prefetch("images", queryset=Image.objects.filter(trashed_at__isnull=True))
        return self.filter(trashed_at__isnull=True).prefetch_related(images)


class Job(models.Model):
    """One request to the image API: what was asked, how it went, what it cost."""

    class Kind(models.TextChoices):
        GENERATE = "generate", "Generate"
        EDIT = "edit", "Edit"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENERATE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    model = models.CharField(max_length=100)
    prompt = models.TextField()
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHARED
    )
    # The API parameters besides model and prompt (n, size, quality, background,
    # output_format, output_compression, moderation, input_fidelity), exactly as sent.
    params = models.JSONField(default=dict)

    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Which worker thread holds the lease ("host:pid:thread"); its heartbeat renews it.
    lease_holder = models.CharField(max_length=255, blank=True)
    # How many times a worker died (lease ran out) while running this job.
    losses = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=200, blank=True)

    usage = models.JSONField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    # What the job was expected to cost when it was accepted; held against the budgets
    # while the job is unfinished, so parallel jobs cannot overspend.
    estimate_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    # The most the job can cost (every `auto` at its dearest, every token rounded up): this,
    # not the estimate, is held against the budgets while the job is unfinished.
    held_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)

    # The latest streamed preview: a derived file (never an Image row), removed when the
    # final images are stored.
    partial_file = models.CharField(max_length=255, blank=True)
    partial_index = models.PositiveSmallIntegerField(null=True, blank=True)
    partial_at = models.DateTimeField(null=True, blank=True)

    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    # An edit's mask, exactly as it will be sent (a derived file, never a gallery Image).
    mask = models.FileField(max_length=255, blank=True)
    # An edit's markup layer (arrows and circles over the first input), likewise.
    markup = models.FileField(max_length=255, blank=True)
    # "New images go to board X": the outputs are put on this board when the job succeeds.
    board = models.ForeignKey(
        "Board", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    # Asked for through the OpenAI-compatible endpoint (/v1/) with this personal token, and
    # the client's Idempotency-Key: a repeat with the same key gets this job's result.
    api_token = models.ForeignKey(
        "ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    # In the trash since then (gallery/trash.py): hidden from everyone, restorable for
    # TRASH_DAYS. The row itself is never deleted: budgets and the spending page read jobs.
    # `purged_at`: deleted forever (its images' files and its own are gone).
    trashed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["owner", "created_at"], name="job_owner_created"),
            models.Index(fields=["status", "owner"], name="job_status_owner"),
            models.Index(
                fields=["trashed_at"], condition=Q(trashed_at__isnull=False), name="job_in_trash"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_job_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("gallery:job-detail", args=[self.pk])

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELED)

    @property
    def n(self) -> int:
        return int(self.params.get("n", 1))

    @property
    def partial_images(self) -> int:
        return int(self.params.get("partial_images", 0))

    def api_options(self, *only_for_this_call: str) -> dict:
        """The saved parameters both image API calls take (plus `only_for_this_call`:
        moderation for generations, input_fidelity for edits), passed on as they were saved."""
        names = (
            "size",
            "quality",
            "background",
            "output_format",
            "output_compression",
            "complexity",
            "frame_count",
            "frame_duration_ms",
            *only_for_this_call,
        )
        return {"n": self.n, **{name: self.params.get(name) for name in names}}

    @property
    def can_cancel(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def elapsed_seconds(self) -> int | None:
        """Seconds since the job was asked for, up to its end."""
        end = self.finished_at or timezone.now()
        return max(int((end - self.created_at).total_seconds()), 0)

    @property
    def was_sent(self) -> bool:
        return self.attempts > 0

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELED) and not self.latest_retry

    @property
    def latest_retry(self) -> "Job | None":
        """The newest job made by retrying this one (uses prefetched `retries`)."""
        return max(self.retries.all(), key=lambda retry: retry.pk, default=None)

    @property
    def may_still_change(self) -> bool:
        """Unfinished, or canceled while its API call was in flight: that call's images and
        cost may still arrive, for as long as a call can last (uses prefetched
        `attempt_log`). A live card keeps asking for news until this is False."""
        if not self.is_finished:
            return True
        if self.status != self.Status.CANCELED or not self.was_sent:
            return False
        longest = timedelta(
            seconds=settings.STUDIO_API_CONNECT_TIMEOUT
            + settings.STUDIO_API_READ_TIMEOUT
            + settings.STUDIO_JOB_LEASE_SECONDS
        )
        since = timezone.now() - longest
        return any(
            attempt.outcome == Attempt.Outcome.IN_PROGRESS and attempt.started_at > since
            for attempt in self.attempt_log.all()
        )

    @property
    def rerun_offer(self):
        """For a failed or canceled job whose model takes no new jobs (shut down, or not
        usable with this key): the offered model to run it on instead, its replacement where
        that is offered, else the default. None when the job's own model is still offered."""
        if not self.can_retry:
            return None
        from gallery.imagesapi import discovery, registry

        offers = discovery.offers()
        if discovery.offer_for(self.model, offers) is not None:
            return None
        replacement = registry.replacement_for(self.model)
        chosen = replacement and discovery.offer_for(replacement.id, offers)
        return chosen or discovery.default_offer(offers)


class ImageQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Shared images and the person's own; staff see all; anonymous people none."""
        return _visible_to(self, user)

    def search(self, query: "str | search.Query") -> "ImageQuerySet":
        """Images matching a search query (see gallery.browse.search for the grammar); the full-text
        index of the database in use (FTS5 or tsvector) does the matching."""
        from gallery.browse import search

        return search.apply(self, query if isinstance(query, search.Query) else search.parse(query))


DOWNLOAD_NAME_CHARS = 60  # of the prompt, in an original's file name


class Image(models.Model):
    """One image file: an API output or an upload. The original bytes are stored exactly as
    received (they carry the C2PA manifest); thumbnails are separate, derived files."""

    class Source(models.TextChoices):
        GENERATED = "generated", "Generated"
        EDITED = "edited", "Edited"
        UPLOAD = "upload", "Upload"
        COMPOSITE = "composite", "Composite"

    class Provenance(models.TextChoices):
        PENDING = "pending", "Not read yet"
        TRUSTED = "trusted", "Trusted signer"
        VALID = "valid", "Valid signature"
        INVALID = "invalid", "Invalid credential"
        TAMPERED = "tampered", "Tampered"
        UNREADABLE = "unreadable", "Unreadable"
        NONE = "none", "No Content Credentials"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="images"
    )
    job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="images"
    )
    index = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.GENERATED)

    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=50)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumbnail = models.FileField(max_length=255)
    thumbnail_small = models.FileField(max_length=255)
    thumbnail_width = models.PositiveIntegerField()
    thumbnail_height = models.PositiveIntegerField()

    # Copied from the job so that the gallery filters and searches one table.
    prompt = models.TextField(blank=True)
    revised_prompt = models.TextField(blank=True)
    model = models.CharField(max_length=100, blank=True)
    quality = models.CharField(max_length=16, blank=True)
    background = models.CharField(max_length=16, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHARED
    )

    provenance_state = models.CharField(
        max_length=16, choices=Provenance.choices, default=Provenance.PENDING
    )
    ai_generated = models.BooleanField(default=False)
    provenance = models.JSONField(null=True, blank=True)
    manifest_json = models.TextField(blank=True)

    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # An upload picked on the edit page and not yet part of a submitted edit: private to its
    # owner until then, deleted a day later if it never is (gallery/jobs/pending_uploads.py).
    pending_since = models.DateTimeField(null=True, blank=True)
    # Made through the OpenAI-compatible endpoint with this personal token (copied from the
    # job, so the gallery's "Made via API" filter reads one table).
    api_token = models.ForeignKey(
        "ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # In the trash since then (gallery/trash.py): hidden everywhere as if it did not exist,
    # restorable by its owner. `purged_at`: its files were removed from storage (deleted
    # forever, or left in the trash too long); the row stays, emptied, so that the lineage of
    # images made from it keeps its place ("a deleted image").
    trashed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        # Newest first everywhere: ids are handed out in the order images are stored, and the
        # primary key is the one index every database walks backwards for free. The
        # composites serve the filters that narrow a lot (one person, one model) without a
        # sort; created_at serves date ranges. Full-text indexes live in migrations 0005 and
        # 0008 (FTS5 or tsvector, per database).
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="image_newest"),
            # The gallery for a non-staff person: shared images newest first (their own come
            # through image_owner_id).
            models.Index(fields=["visibility", "-id"], name="image_visible_id"),
            models.Index(fields=["owner", "-id"], name="image_owner_id"),
            models.Index(fields=["model", "-id"], name="image_model_id"),
            models.Index(
                fields=["pending_since"],
                condition=Q(pending_since__isnull=False),
                name="image_pending_upload",
            ),
            # "Made via API": few images among many, newest first, without a scan.
            models.Index(
                fields=["-id"], condition=Q(api_token__isnull=False), name="image_via_api_id"
            ),
            # A person's trash, and the images whose 30 days in it are over.
            models.Index(
                fields=["trashed_at"],
                condition=Q(trashed_at__isnull=False, purged_at__isnull=True),
                name="image_in_trash",
            ),
        ]
        constraints = [
            # One set of outputs per job, whatever happens to the worker.
            models.UniqueConstraint(
                fields=["job", "index", "source"],
                condition=Q(job__isnull=False),
                name="one_output_per_job_index",
            )
        ]

    def __str__(self) -> str:
        return f"Image {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("gallery:image-detail", args=[self.pk])

    @property
    def file_name(self) -> str:
        """The original's name in media storage (the column is NOT NULL: always a name)."""
        name = self.file.name
        assert name is not None
        return name

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE

    @property
    def is_trashed(self) -> bool:
        return self.trashed_at is not None

    @property
    def extension(self) -> str:
        from gallery.media import OUTPUT_EXTENSIONS

        return OUTPUT_EXTENSIONS.get(self.content_type, "bin")

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def download_name(self) -> str:
        """A file name a person recognises in their downloads folder: the prompt's first words
        and the id (`a-lighthouse-at-dusk-1234.png`); `studio-1234.png` without a usable prompt."""
        words = slugify(self.prompt)
        if len(words) > DOWNLOAD_NAME_CHARS:
            # At the last whole word that fits, unless the first word alone is too long.
            cut = words[: DOWNLOAD_NAME_CHARS + 1]
            words = cut.rsplit("-", 1)[0] if "-" in cut else cut[:DOWNLOAD_NAME_CHARS]
        return f"{words or 'studio'}-{self.pk}.{self.extension}"


def _visible_to(queryset, user):
    if user is None or not user.is_authenticated:
        return queryset.none()
    queryset = queryset.filter(trashed_at__isnull=True)  # the trash is seen on its own page
    if user.is_staff:
        return queryset
    return queryset.filter(Q(visibility=Visibility.SHARED) | Q(owner=user))


class JobInput(models.Model):
    """One input image of an edit job, in the order it is sent (the mask applies to the first)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="inputs")
    position = models.PositiveSmallIntegerField()
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="used_as_input")

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="one_input_per_position")
        ]

    def __str__(self) -> str:
        return f"Job {self.job_id} input {self.position}"


class ImageParent(models.Model):
    """Lineage: `child` was made from `parent`, in the given role."""

    class Role(models.TextChoices):
        INPUT = "input", "Input"
        MASKED_INPUT = "masked_input", "Input (masked)"
        EDIT = "edit", "Model output"
        ORIGINAL = "original", "Original"

    child = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="child_links")
    role = models.CharField(max_length=16, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["child", "position"]
        constraints = [
            models.UniqueConstraint(fields=["child", "parent", "role"], name="one_link_per_role")
        ]

    def __str__(self) -> str:
        return f"Image {self.child_id} <- {self.parent_id} ({self.role})"


class Attempt(models.Model):
    """One call to the image API on behalf of a job, kept for the job's page."""

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUCCEEDED = "succeeded", "Succeeded"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"
        WORKER_LOST = "worker_lost", "Worker stopped mid-call"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    # Indexed: the images-per-minute limit counts the images asked for in the last minute.
    started_at = models.DateTimeField(db_index=True)
    image_count = models.PositiveSmallIntegerField(default=1)
    duration_ms = models.PositiveIntegerField(default=0)
    # Time spent inside the API call alone; the rest of duration_ms is the studio's own work.
    api_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="one_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"Job {self.job_id} attempt {self.number}"


class WorkerHeartbeat(models.Model):
    """Each worker process writes here every few seconds; /healthz reads it. The database
    is the one place every web and worker machine shares."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.hostname


class Invite(models.Model):
    """A one-use code that lets one person sign up when STUDIO_SIGNUP is "invite"."""

    code = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invites_made"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invite_used",
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite {self.code[:6]}…"

    @property
    def is_usable(self) -> bool:
        return self.used_by_id is None and self.expires_at > timezone.now()


class Board(models.Model):
    """A person's named collection of images (their own or shared ones)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # When an image was last added or removed, or the board renamed (the boards page).
    changed_at = models.DateTimeField(default=timezone.now)
    # The cover the owner chose; without one (or when it is gone) the latest image added.
    cover = models.ForeignKey(
        Image, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    images = models.ManyToManyField(Image, through="BoardImage", related_name="boards")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="one_board_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class BoardImage(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    image = models.ForeignKey(Image, on_delete=models.CASCADE)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "image"], name="one_entry_per_board_image")
        ]

    def __str__(self) -> str:
        return f"Image {self.image_id} on board {self.board_id}"


class Favourite(models.Model):
    """A star: one person likes one image."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "image"], name="one_star_per_user_image")
        ]

    def __str__(self) -> str:
        return f"Star on image {self.image_id} by {self.user_id}"


class Profile(models.Model):
    """One person's studio preferences; created the first time they save one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_profile"
    )
    default_visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHARED
    )
    # A monthly spending limit in USD; empty means none of their own (the studio's limit,
    # STUDIO_MONTHLY_BUDGET_USD, still applies).
    monthly_budget_usd = models.DecimalField(
        "monthly budget (USD)", max_digits=10, decimal_places=2, null=True, blank=True
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @classmethod
    def default_visibility_for(cls, user) -> str:
        """The person's chosen default, else the site's. Reading never creates a row: a
        profile is created the first time the person saves a preference."""
        chosen = cls.objects.filter(user=user).values_list("default_visibility", flat=True)
        return chosen.first() or settings.STUDIO_DEFAULT_VISIBILITY


class ApiToken(models.Model):
    """A personal API token: lets a script or chat front-end act as its owner on the studio's
    OpenAI-compatible endpoint (/v1/), under the owner's budget, limits and visibility default.
    Only the token's sha256 is stored; the token itself is shown once, when it is made."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token, so people can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return self.revoked_at is None and not expired


class Allowance(models.Model):
    """How much of something limited (jobs a minute, uploads a minute, sign-in attempts) one
    key has used in its current window. Taken with a conditional UPDATE whose row count says
    yes or no, so parallel requests can never take more than the limit between them, on any
    number of web machines (gallery.jobs.limits)."""

    key = models.CharField(max_length=200, unique=True)
    used = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.used} until {self.window_ends_at:%H:%M:%S}"


class ModelListing(models.Model):
    """What GET /models answered for one API base URL when the worker last asked: the image
    models the key can use and their shutdown dates. `listed` is None when the API does not
    list models (some gateways); the studio then falls back to its configuration."""

    base_url = models.CharField(max_length=500, unique=True)
    listed = models.JSONField(null=True, blank=True)  # [{"id": ..., "shutdown_date": ...}]
    checked_at = models.DateTimeField()
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Models at {self.base_url}"


class PromptEmbedding(models.Model):
    """An image's prompt as a vector (gallery.browse.prompts), made by the worker when the
    image lands. The id says which rows a web process has loaded (gallery.browse.semantic)."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="prompt_embedding")
    vector = models.BinaryField()  # float16, unit length: the exact score
    code = models.BinaryField()  # the vector's signs, one bit each: what the index scans

    def __str__(self) -> str:
        return f"Prompt vector of image {self.image_id}"


class PerceptualHash(models.Model):
    """An image's 64-bit perceptual hash (gallery.browse.similar), made by the worker from its
    thumbnail: near images differ in few bits."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="perceptual_hash")
    phash = models.BinaryField()  # 8 bytes

    def __str__(self) -> str:
        return f"Perceptual hash of image {self.image_id}"
