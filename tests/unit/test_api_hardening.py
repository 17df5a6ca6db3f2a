"""The image API client against hostile answers: a key echoed back (issue 14, item 8) and
`url` answers pointing inside the network (item 7). Real servers throughout: the stand-in, and
small local HTTP servers standing for a gateway's file host and for an internal service."""

import io
import logging

import pytest
from django.core.management import call_command

from gallery import jobs
from gallery.models import Attempt, Job

pytestmark = pytest.mark.django_db

# Not shaped like an OpenAI key, so only redaction of the configured key itself can catch it.
SECRET = "gw-Live-7f3c9e1d5b2a48c6a0e4d8b1f9c3e7a5"


def run_to_the_end(owner, prompt):
    job = jobs.create_job(owner=owner, prompt=prompt, model="gpt-image-1", size="1024x1024")
    claimed = jobs.claim_job(job.pk)
    assert claimed is not None
    jobs.run_job(claimed)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("fault", ["echo_key", "echo_key_redirect"])
def test_a_key_the_api_echoes_is_kept_nowhere(
    fault, alice, alice_client, standin, monkeypatch, caplog
):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    job = run_to_the_end(alice, f"a leaky gateway [fault:{fault}]")
    assert job.status == Job.Status.FAILED
    # The echo arrived (in the request id header) and was redacted, not dropped unseen.
    assert "[redacted]" in job.request_id
    attempt = Attempt.objects.get(job=job)
    dump = io.StringIO()
    call_command("dumpdata", "gallery", stdout=dump)
    page = alice_client.get(job.get_absolute_url()).content.decode()
    studio_logs = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("gallery.imagesapi.standin")  # the leaky "gateway" itself
    )
    for kept in (job.error, job.request_id, job.error_code, attempt.error, attempt.request_id):
        assert SECRET not in kept
    assert SECRET not in dump.getvalue()
    assert SECRET not in page
    assert SECRET not in studio_logs
