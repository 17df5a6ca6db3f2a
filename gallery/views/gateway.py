"""The OpenAI-compatible endpoint: POST /v1/images/generations and /v1/images/edits, GET
/v1/models, and the signed links that `response_format: url` hands out.

A request authenticates with a personal API token, becomes a job like one made on the create
or edit page (same budgets, limits, fair queue, retries), and waits for it; an
`Idempotency-Key` header makes a repeat answer with the first job instead of paying again.
"""

import json
from functools import wraps

from django.conf import settings
from django.db import IntegrityError
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from gallery import jobs, tasks
from gallery.forms import EditForm, GenerateForm
from gallery.gateway import openai_api as api
from gallery.gateway import tokens
from gallery.imagesapi import discovery, registry
from gallery.jobs import budgets, edits, limits
from gallery.media import serving
from gallery.models import Image, Job


def _error(error: api.ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def openai_endpoint(*methods: str):
    """Token authentication, the allowed methods, and every refusal in OpenAI's envelope."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return _error(
                    api.ApiError(405, f"{request.method} is not allowed here; use {methods[0]}.")
                )
            token = tokens.authenticate(request.headers.get("Authorization", ""))
            if token is None:
                return _error(
                    api.ApiError(
                        401,
                        "Incorrect API key provided. Use a personal API token from the "
                        "studio's API tokens page (Authorization: Bearer studio-...).",
                        code="invalid_api_key",
                    )
                )
            try:
                return view(request, token, *args, **kwargs)
            except api.ApiError as error:
                return _error(error)

        return wrapper

    return decorate


@openai_endpoint("POST")
def generate_images(request, token):
    try:
        params = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise api.ApiError(
            400, "The request body is not valid JSON.", code="invalid_json"
        ) from None
    if not isinstance(params, dict):
        raise api.ApiError(400, "The request body must be a JSON object.", code="invalid_json")
    api.check_parameters(params, api.GENERATION_PARAMETERS)
    fmt = api.response_format(params)
    stream = api.truthy(params.get("stream"))
    key = request.headers.get("Idempotency-Key", "")[:255]
    job = _earlier_job(token, key)
    if job is None:
        data = api.form_data(params)
        if not stream:
            data.setdefault("partial_images", "0")
        form = GenerateForm(_with_defaults(GenerateForm, data, token.owner), user=token.owner)
        if not form.is_valid():
            raise api.first_form_error(form)
        job = _accept(
            token,
            key,
            lambda: jobs.create_job(
                owner=token.owner, api_token=token, idempotency_key=key, **form.cleaned_data
            ),
        )
    return _answer(request, job, fmt, stream=stream, kind="image_generation")


@openai_endpoint("POST")
def edit_images(request, token):
    api.check_parameters(request.POST.keys(), api.EDIT_PARAMETERS)
    api.check_parameters(request.FILES.keys(), api.EDIT_FILES)
    params = request.POST.dict()
    fmt = api.response_format(params)
    stream = api.truthy(params.get("stream"))
    key = request.headers.get("Idempotency-Key", "")[:255]
    job = _earlier_job(token, key)
    if job is None:
        images = request.FILES.getlist("image") + request.FILES.getlist("image[]")
        files = MultiValueDict({"uploads": images})
        if "mask" in request.FILES:
            files["mask"] = request.FILES["mask"]
        data = _with_defaults(EditForm, api.form_data(params), token.owner)
        form = EditForm(
            MultiValueDict({name: [value] for name, value in data.items()}),
            files,
            visible_images=Image.objects.none(),
            user=token.owner,
        )
        if not form.is_valid():
            raise api.first_form_error(form)

        job = _accept(
            token,
            key,
            lambda: edits.create_edit_job(
                owner=token.owner, api_token=token, idempotency_key=key, **form.cleaned_data
            ),
            uploads=len(images),
        )
    return _answer(request, job, fmt, stream=stream, kind="image_edit")


@openai_endpoint("GET")
def models(request, token):
    """The models the studio offers for new jobs (what the key can use), in OpenAI's list
    shape, with their shutdown dates where OpenAI announced one."""
    data = []
    for offer in discovery.offers():
        entry = {"id": offer.id, "object": "model", "created": 0, "owned_by": "studio"}
        if offer.shutdown_date:
            entry["shutdown_date"] = offer.shutdown_date.isoformat()
        data.append(entry)
    return JsonResponse({"object": "list", "data": data})


@require_GET
def image_file(request, token: str):
    """The original of an image the gateway answered with `response_format: url`: the signed,
    expiring token is the authorisation (it was handed to the image's owner's client)."""
    pk = api.image_from_url_token(token)
    found = Image.objects.filter(pk=pk, trashed_at__isnull=True) if pk is not None else None
    image = found.first() if found is not None else None
    if image is None:
        raise Http404("This image link is not valid or has expired.")
    return serving.file_response(
        request,
        image.file_name,
        content_type=image.content_type,
        filename=f"studio-{image.pk}.{image.extension}",
        etag=image.sha256,
        private=True,
    )


def _with_defaults(form_class, data: dict, owner) -> dict:
    """OpenAI's defaults for what a client left out (n=1, size/quality "auto", ...): the
    form's initial values for the chosen model, or the studio's default model."""
    if "model" not in data:
        offer = discovery.default_offer()
        data["model"] = offer.id if offer else registry.all_models()[0].id
    blank = form_class(model_id=data["model"], user=owner)
    for name, field in blank.fields.items():
        if name not in data and field.initial not in (None, ""):
            data[name] = str(field.initial)
    return data


def _earlier_job(token, key: str) -> Job | None:
    if not key:
        return None
    return Job.objects.filter(owner=token.owner, idempotency_key=key).first()


def _accept(token, key: str, create, *, uploads: int = 0) -> Job:
    """Take the job (and its uploads) from the person's per-minute allowance, create it (which
    checks the budgets; a refusal gives the allowance back), and ring the worker once it is
    committed."""
    try:
        with limits.charged(token.owner, jobs=1, uploads=uploads):
            job = create()
    except limits.LimitExceeded as refusal:
        raise api.ApiError(
            429,
            refusal.message,
            code="rate_limit_exceeded",
            headers={"Retry-After": str(refusal.retry_after)},
        ) from None
    except budgets.OverBudget as refusal:
        raise api.ApiError(
            429,
            str(refusal),
            type="insufficient_quota",
            code="insufficient_quota",
            headers={"x-should-retry": "false"},
        ) from None
    except jobs.ModelUnavailable as refusal:
        raise api.ApiError(400, str(refusal), param="model", code="model_not_found") from None
    except edits.EditRefused as refusal:
        raise api.ApiError(400, str(refusal), param="image") from None
    except IntegrityError:
        # The same Idempotency-Key arrived twice at once: the other request made the job.
        earlier = _earlier_job(token, key)
        if earlier is None:
            raise
        return earlier
    tasks.run_job.delay_on_commit(job.pk)
    return job


def _answer(request, job: Job, fmt: str, *, stream: bool, kind: str):
    timeout = settings.STUDIO_GATEWAY_TIMEOUT
    response: StreamingHttpResponse | JsonResponse
    if stream:
        response = StreamingHttpResponse(
            api.stream_events(request, job.pk, kind=kind, timeout=timeout),
            content_type="text/event-stream",
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    else:
        finished = api.wait_for(job.pk, timeout=timeout)
        if finished is None:
            raise api.timed_out(job)
        if finished.status != Job.Status.SUCCEEDED:
            raise api.failure(finished)
        response = JsonResponse(api.images_response(request, finished, fmt))
    response["X-Studio-Job"] = str(job.pk)
    return response
