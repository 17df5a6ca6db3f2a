"""A refused edit stores nothing (issue 14, item 11): not its uploads, not its mask, not a
job, whatever refused it (a budget, a per-minute limit, a rule of the model), and a refusal
uses up no allowance."""

from decimal import Decimal

import pytest

from gallery.jobs import budgets, limits
from gallery.models import Image, Job
from tests.unit.test_edits import _post_edit, mask_png, png

pytestmark = pytest.mark.django_db


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def refuse_by(kind: str, alice, settings):
    if kind == "person budget":
        budgets.set_person_limit(alice, "0.000001")
    elif kind == "studio budget":
        settings.STUDIO_MONTHLY_BUDGET_USD = Decimal("0.000001")
    elif kind == "jobs a minute":
        settings.STUDIO_JOBS_PER_MINUTE = 1
        assert _post_edit_with_mask(alice.client, colour=(1, 1, 1)).status_code == 200
    elif kind == "uploads a minute":
        settings.STUDIO_UPLOADS_PER_MINUTE = 1
        limits.check_uploads(alice, 1)


def _post_edit_with_mask(client, colour=(200, 30, 30), **fields):
    return _post_edit(
        client,
        files=[("a.png", png(colour=colour), "image/png")],
        mask=mask_png(),
        keep_unmasked="on",
        **fields,
    )


@pytest.mark.parametrize(
    "kind", ["person budget", "studio budget", "jobs a minute", "uploads a minute"]
)
def test_a_refused_edit_stores_no_mask_upload_or_job(
    alice_client, alice, settings, media_root, kind
):
    alice.client = alice_client
    refuse_by(kind, alice, settings)
    before = (stored_files(media_root), Job.objects.count(), Image.objects.count())
    response = _post_edit_with_mask(alice_client)
    assert response.status_code in (400, 429), response.content[:500]
    assert (stored_files(media_root), Job.objects.count(), Image.objects.count()) == before


def test_an_accepted_edit_stores_its_mask(alice_client, media_root):
    assert _post_edit_with_mask(alice_client).status_code == 200
    job = Job.objects.get()
    assert job.mask.name.startswith("masks/") and (media_root / job.mask.name).is_file()
