import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gallery import jobs, tasks
from gallery.forms import GenerateForm
from gallery.imagesapi import discovery, registry
from gallery.models import Job


class Command(BaseCommand):
    help = "Queue an image generation like the web form does; --wait prints the result."

    def add_arguments(self, parser):
        parser.add_argument("prompt")
        parser.add_argument(
            "--model", default=None, help=f"one of: {', '.join(registry.model_ids())}"
        )
        parser.add_argument("--size", default="auto")
        parser.add_argument("--quality", default="auto")
        parser.add_argument("--background", default="auto")
        parser.add_argument("--format", dest="output_format", default="png")
        parser.add_argument("--compression", dest="output_compression", type=int, default=None)
        parser.add_argument("--moderation", default="auto")
        parser.add_argument("--complexity", default=None, help="low, medium or high (2.6)")
        parser.add_argument("--frames", dest="frame_count", type=int, default=None, help="GIF")
        parser.add_argument("--n", type=int, default=1)
        parser.add_argument("--user", default="studio", help="owner (created if missing)")
        parser.add_argument("--wait", action="store_true", help="wait for the job and print it")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait")

    def handle(self, *args, **options):
        data = {
            "prompt": options["prompt"],
            "model": options["model"] or _default_model(),
            "n": options["n"],
            "size": options["size"],
            "quality": options["quality"],
            "background": options["background"],
            "output_format": options["output_format"],
            "output_compression": options["output_compression"],
            "moderation": options["moderation"],
            "complexity": options["complexity"],
            "frame_count": options["frame_count"],
        }
        form = GenerateForm({k: "" if v is None else v for k, v in data.items()})
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            raise CommandError(f"Nothing queued. {problems}")
        owner, _ = get_user_model().objects.get_or_create(username=options["user"])
        with transaction.atomic():
            job = jobs.create_job(owner=owner, **form.cleaned_data)
            tasks.run_job.delay_on_commit(job.pk)
        self.stdout.write(f"queued job {job.pk}")
        if options["wait"]:
            self._wait(job.pk, options["timeout"])

    def _wait(self, job_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            job = Job.objects.get(pk=job_id)
            if job.is_finished:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"job {job_id} still {job.status} after {timeout:g} s")
            time.sleep(0.25)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job_id} {job.status}: {job.error}")
        for image in job.images.order_by("index"):
            self.stdout.write(f"image {image.pk} {_where(image.file)}")
        self.stdout.write(f"cost ${job.cost_usd:.4f}")


def _where(file) -> str:
    """The file's path on this machine's disk, or its name in remote storage (S3)."""
    try:
        return file.path
    except NotImplementedError:
        return file.name


def _default_model() -> str:
    offer = discovery.default_offer()
    return offer.id if offer else registry.all_models()[0].id
