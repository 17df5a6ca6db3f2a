"""Content Credentials (C2PA): reading, summarising and signing images.

This is the only module that imports `c2pa`. Everything else gets a `Provenance` (state,
AI flag, a JSON-serialisable summary for the UI and the CLI, and the raw manifest JSON) or
signed bytes.

Reading never touches the network (remote manifests and OCSP are not fetched) and never
raises for bad input: anything the reader cannot make sense of is state "unreadable" with the
reader's message. Trust comes from settings: C2PA_TRUST_ANCHOR_FILES (PEM bundles, joined) and
C2PA_TRUST_CONFIG_FILE (accepted EKU OIDs; without it Microsoft-style certificates read as
invalid). shared/notes/c2pa.md (beside the repository) records the library behaviour behind
these choices.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import c2pa
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from gallery import media
from gallery.provenance import credentials

logger = logging.getLogger(__name__)

TRUSTED = "trusted"
VALID = "valid"
INVALID = "invalid"
TAMPERED = "tampered"
UNREADABLE = "unreadable"
NONE = "none"
STATES = (TRUSTED, VALID, INVALID, TAMPERED, UNREADABLE, NONE)

STATE_LABELS = {
    TRUSTED: "Trusted signer",
    VALID: "Valid signature, signer not on the trust list",
    INVALID: "Invalid credential",
    TAMPERED: "Tampered",
    UNREADABLE: "Unreadable",
    NONE: "No Content Credentials",
}

_EXPLANATIONS = {
    TRUSTED: (
        "The Content Credentials are intact and were signed by an organisation on the "
        "studio's trust list."
    ),
    VALID: (
        "The Content Credentials are intact, but the signer's certificate does not chain to "
        "the studio's trust list, so who signed them cannot be confirmed."
    ),
    INVALID: (
        "The Content Credentials are intact but the signing credential is not acceptable "
        "(for example expired, revoked or not meant for signing)."
    ),
    TAMPERED: (
        "The image or its Content Credentials changed after signing: the recorded hashes or "
        "signature no longer match."
    ),
    UNREADABLE: "The file carries data the studio cannot read as Content Credentials.",
    NONE: "The file carries no Content Credentials, so nothing is known about its origin.",
}

IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC's generative-AI source types. algorithmicMedia (made by an algorithm without training
# data) and compositeSynthetic (any synthetic element, e.g. CGI) are deliberately not here.
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})

SIGNING_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
GENERATOR_NAME = "OpenAI-API (stand-in)"
STUDIO_NAME = "Studio"

_ACTION_LABELS = ("c2pa.actions", "c2pa.actions.v2")

# A manifest may list hundreds of ingredients; pages list (and fetch thumbnails for) this
# many, depth first, and say how many more the raw manifest JSON holds.
INGREDIENTS_SHOWN = 50
# Ingredient thumbnails extracted once per stored file (derived files, see
# ingredient_thumbnail), and how long their index stays in the cache.
THUMBNAIL_FOLDER = "ingredient-thumbnails"
_INDEX_SECONDS = 30 * 24 * 3600
_LOCK_SECONDS = 30
_LOCK_WAIT_SECONDS = 5.0
_SIGNING_ALGS = {alg.name.lower(): alg for alg in c2pa.C2paSigningAlg}


class ProvenanceError(Exception):
    """Base class for this module's errors."""


class SigningError(ProvenanceError):
    """The image could not be signed (bad input image or credential); the message says why."""


@dataclass(frozen=True)
class Provenance:
    state: str  # one of STATES
    ai_generated: bool  # an AI digital source type is declared anywhere in the chain
    summary: dict  # JSON-serialisable, keys documented in _empty_summary()
    manifest_json: str | None  # the manifest store (Reader.json()), None without a manifest
    # With read(..., thumbnails=True): ingredient key ("" for the image's own claim, "0.1" for
    # an ingredient path) -> (bytes, declared format), for the ingredients shown.
    thumbnails: dict[str, tuple[bytes, str]] = field(default_factory=dict)


# --- Reading ------------------------------------------------------------------------------


def read(data: bytes, *, mime: str | None = None, thumbnails: bool = False) -> Provenance:
    """Read and validate the Content Credentials in `data`. Never raises for bad input.

    `mime` is a hint: the native reader sniffs the container and ignores a wrong type. With
    `thumbnails`, the thumbnails of the ingredients shown come from the same read (opening a
    reader validates the whole store, which is most of the cost).
    """
    context = _reader_context()
    if not data:
        return _unreadable("The file is empty.")
    found: dict[str, tuple[bytes, str]] = {}
    try:
        with _open_reader(data, mime, context) as reader:
            manifest_json = reader.json()
            crjson = _crjson(reader)
            if thumbnails:
                found = _thumbnails(reader, manifest_json)
    except c2pa.C2paError.ManifestNotFound:
        return Provenance(NONE, False, _empty_summary(NONE), None)
    except c2pa.C2paError as exc:
        return _unreadable(str(exc))
    except (ValueError, TypeError, OSError) as exc:  # e.g. a non-bytes stream or bad MIME text
        return _unreadable(f"{type(exc).__name__}: {exc}")
    try:
        store = json.loads(manifest_json)
        summary = _summarise(store, crjson, _sniff_mime(data) or mime)
    except Exception:  # a manifest shape this code does not expect must not break a page
        logger.exception("Could not summarise a C2PA manifest store")
        summary = _empty_summary(UNREADABLE)
        summary["error"] = "The credentials were read but could not be summarised."
        return Provenance(UNREADABLE, False, summary, manifest_json)
    return Provenance(summary["state"], summary["ai_generated"], summary, manifest_json, found)


def on_legacy_list(data: bytes, *, mime: str | None = None) -> bool:
    """Whether the signer of `data` chains to the legacy interim trust list
    (C2PA_LEGACY_TRUST_ANCHOR_FILES) instead: a second read, so callers ask only about files
    that read as VALID with the official list. False when no legacy list is configured."""
    anchor_files = tuple(str(p) for p in getattr(settings, "C2PA_LEGACY_TRUST_ANCHOR_FILES", []))
    if not anchor_files or not data:
        return False
    trust_config = getattr(settings, "C2PA_TRUST_CONFIG_FILE", None)
    context = _context_for(anchor_files, str(trust_config) if trust_config else None)
    try:
        with _open_reader(data, mime, context) as reader:
            return reader.get_validation_state() == "Trusted"
    except (c2pa.C2paError, ValueError, TypeError, OSError):
        return False


def explain(state: str) -> str:
    """A plain-words explanation of a state, for the UI."""
    return _EXPLANATIONS[state]


def state_label(state: str) -> str:
    return STATE_LABELS[state]


def ingredient_key(path: Sequence[int]) -> str:
    """How an ingredient path is written in URLs and in Provenance.thumbnails: "0.1"."""
    return ".".join(str(index) for index in path)


def shown_ingredients(summary: dict) -> list[dict]:
    """The ingredients a page lists: the first INGREDIENTS_SHOWN, depth first."""
    return list(summary.get("ingredients") or [])[:INGREDIENTS_SHOWN]


def ingredient_thumbnail(
    data: bytes, path: Sequence[int] = (), *, mime: str | None = None
) -> tuple[bytes, str] | None:
    """The thumbnail a manifest carries, as (bytes, declared MIME type), or None.

    `path` walks ingredients from the active manifest: () is the active manifest's own claim
    thumbnail, (0,) its first ingredient's thumbnail, (0, 1) the second ingredient of that
    ingredient's manifest. Each summary["ingredients"] entry gives its `path`; only the
    ingredients shown (INGREDIENTS_SHOWN) have one here.

    A page lists many ingredients and asks for each thumbnail separately, so the manifest is
    read once per stored file: the first request extracts every shown thumbnail in one pass
    into derived files named by the file's sha256, and later requests only open one of those.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    index = _thumbnail_index(sha256)
    if index is None:
        with _thumbnail_lock(sha256):
            index = _thumbnail_index(sha256)
            if index is None:
                index = _store_thumbnails(sha256, data, mime)
    entry = index.get(ingredient_key(path))
    if entry is None:
        return None
    try:
        return media.read(entry[0]), entry[1]
    except FileNotFoundError:  # the derived file went away: make them again next time
        _forget_index(sha256)
        return None


def forget_ingredient_thumbnails(sha256: str) -> None:
    """Remove the ingredient thumbnails extracted from the file with this sha256 (its
    original was deleted for good). They are content-addressed, so another file's index may
    name one of them too: that file's page extracts them again when it finds one missing."""
    index = _thumbnail_index(sha256) or {}
    for name, _ in index.values():
        media.delete_file(name)
    _forget_index(sha256)


def _forget_index(sha256: str) -> None:
    cache.delete(_index_key(sha256))
    media.delete_file(_index_name(sha256))


def _index_key(sha256: str) -> str:
    return f"c2pa-thumbnails:v1:{sha256}"


def _thumbnail_index(sha256: str) -> dict | None:
    index = cache.get(_index_key(sha256))
    if index is None:
        try:
            index = json.loads(media.read(_index_name(sha256)))
        except (FileNotFoundError, ValueError):
            return None
        cache.set(_index_key(sha256), index, _INDEX_SECONDS)
    return index


def _index_name(sha256: str) -> str:
    return f"{THUMBNAIL_FOLDER}/{sha256[:2]}/{sha256}.json"


def _store_thumbnails(sha256: str, data: bytes, mime: str | None) -> dict:
    """Read the manifest once and keep every shown thumbnail as a derived file; returns the
    index (key -> [file name, declared format]), kept in storage and in the cache."""
    try:
        with _open_reader(data, mime, _reader_context()) as reader:
            found = _thumbnails(reader, reader.json())
    except (c2pa.C2paError, ValueError, TypeError, OSError):
        found = {}
    index = {
        key: [media.store_derived(thumb, folder=THUMBNAIL_FOLDER, extension="bin"), fmt]
        for key, (thumb, fmt) in found.items()
    }
    media.store_derived_as(_index_name(sha256), json.dumps(index).encode())
    cache.set(_index_key(sha256), index, _INDEX_SECONDS)
    return index


class _thumbnail_lock:
    """One extraction per file at a time, across processes (a page asks for all thumbnails
    at once); the others wait for its result rather than read the manifest too. Waiting is
    bounded: after _LOCK_WAIT_SECONDS a request goes ahead by itself."""

    def __init__(self, sha256: str):
        self.key = f"c2pa-thumbnails-lock:{sha256}"
        self.sha256 = sha256
        self.held = False

    def __enter__(self):
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while not (held := cache.add(self.key, 1, _LOCK_SECONDS)):
            if time.monotonic() > deadline or _thumbnail_index(self.sha256) is not None:
                break
            time.sleep(0.05)
        self.held = held
        return self

    def __exit__(self, *exc):
        if self.held:
            cache.delete(self.key)


def _thumbnails(reader, manifest_json: str) -> dict[str, tuple[bytes, str]]:
    """key -> (bytes, declared format) for the image's own claim thumbnail ("") and the
    thumbnails of the ingredients shown, from an open reader."""
    store = json.loads(manifest_json)
    manifests = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    chain = list(_walk(manifests, active_label))[: INGREDIENTS_SHOWN + 1]
    targets: list[tuple[tuple[int, ...], dict]] = [((), manifests.get(active_label) or {})]
    targets += [(path, ingredient) for path, _, ingredient in chain[1:]]
    found = {}
    for path, target in targets:
        thumbnail = target.get("thumbnail") if isinstance(target, dict) else None
        if not isinstance(thumbnail, dict) or not thumbnail.get("identifier"):
            continue
        out = io.BytesIO()
        try:
            reader.resource_to_stream(thumbnail["identifier"], out)
        except (c2pa.C2paError, ValueError, TypeError, OSError):
            continue
        found[ingredient_key(path)] = (out.getvalue(), str(thumbnail.get("format") or "image/jpeg"))
    return found


def _open_reader(data: bytes, mime: str | None, context) -> c2pa.Reader:
    stream = io.BytesIO(data)
    if mime:
        return c2pa.Reader(mime, stream, context=context)
    return c2pa.Reader(stream, context=context)


def _sniff_mime(data: bytes) -> str | None:
    # Claim v2 manifests no longer record the asset's format; name the common ones ourselves.
    head = bytes(data[:12])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _crjson(reader) -> dict:
    # crJSON is the only place with the issuing CA and validity window of each signer.
    try:
        return json.loads(reader.crjson())
    except (c2pa.C2paError, ValueError):
        return {}


def _unreadable(message: str) -> Provenance:
    summary = _empty_summary(UNREADABLE)
    summary["error"] = message
    if message.startswith("Remote:"):
        summary["explanation"] = (
            "The Content Credentials are stored on a remote server, which the studio does not "
            "contact, so they cannot be checked here."
        )
    elif message.startswith("NotSupported:"):
        summary["explanation"] = "The studio cannot read Content Credentials in this file type."
    return Provenance(UNREADABLE, False, summary, None)


# One Context per settings combination, shared by all threads: c2pa's Context is built for
# shared use (readers take a non-exclusive reservation on it; the library itself shares a
# process-wide default Context the same way).
_contexts: dict[tuple, c2pa.Context] = {}
_contexts_lock = threading.Lock()


def _reader_context() -> c2pa.Context:
    anchor_files = tuple(str(p) for p in getattr(settings, "C2PA_TRUST_ANCHOR_FILES", []) or [])
    trust_config = getattr(settings, "C2PA_TRUST_CONFIG_FILE", None)
    return _context_for(anchor_files, str(trust_config) if trust_config else None)


def _context_for(anchor_files: tuple[str, ...], trust_config: str | None) -> c2pa.Context:
    key = (anchor_files, trust_config)
    context = _contexts.get(key)
    if context is None:
        with _contexts_lock:
            context = _contexts.get(key)
            if context is None:
                context = _contexts[key] = _build_context(*key)
    return context


def _build_context(anchor_files: tuple[str, ...], trust_config: str | None) -> c2pa.Context:
    trust: dict = {}
    try:
        anchors = "\n".join(_read_text(path).strip() for path in anchor_files)
        if anchors.strip():
            trust["trust_anchors"] = anchors + "\n"
        if trust_config:
            trust["trust_config"] = _read_text(trust_config)
        return c2pa.Context.from_dict(
            {
                "trust": trust,
                "verify": {
                    "remote_manifest_fetch": False,
                    "ocsp_fetch": False,
                    "verify_after_reading": True,
                    "verify_after_sign": True,
                    "verify_trust": True,
                },
            }
        )
    except c2pa.C2paError as exc:
        raise ImproperlyConfigured(
            f"C2PA trust settings are unusable (C2PA_TRUST_ANCHOR_FILES={list(anchor_files)}, "
            f"C2PA_TRUST_CONFIG_FILE={trust_config}): {exc}"
        ) from exc


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read C2PA trust file {path}: {exc}") from exc


# --- Classification -----------------------------------------------------------------------


def _is_tamper_code(code: str) -> bool:
    # Hash, signature and missing-part failures mean the bytes changed after signing;
    # signingCredential.* and the rest are about the credential, not the content.
    return code.endswith((".mismatch", ".missing")) or "Hash." in code


def _classify(store: dict) -> str:
    raw = store.get("validation_state")
    if raw == "Trusted":
        return TRUSTED
    if raw == "Valid":
        return VALID
    results = store.get("validation_results") or {}
    codes = [f.get("code", "") for f in _status(results.get("activeManifest"), "failure")]
    for delta in results.get("ingredientDeltas") or []:
        codes += [f.get("code", "") for f in _status(delta.get("validationDeltas"), "failure")]
    if not results:
        codes = [s.get("code", "") for s in store.get("validation_status") or []]
    return TAMPERED if any(_is_tamper_code(code) for code in codes) else INVALID


def _status(results: dict | None, kind: str) -> list[dict]:
    return list((results or {}).get(kind) or [])


def _codes(entries: list[dict]) -> list[dict]:
    return [
        {
            "code": entry.get("code"),
            "explanation": entry.get("explanation"),
            "url": entry.get("url"),
        }
        for entry in entries
    ]


def _explanation(state: str, failures: list[dict], timestamp_trusted: bool) -> str:
    codes = {f["code"] for f in failures}
    if state == INVALID:
        if "signingCredential.expired" in codes:
            if timestamp_trusted:
                return "The signing certificate had expired when the credentials were signed."
            return (
                "Signed without a trusted timestamp, and the certificate has since expired, so "
                "the signature can no longer be checked against a valid certificate. This "
                "does not mean the image was altered."
            )
        if "signingCredential.revoked" in codes:
            return "The signer's certificate has been revoked by its issuer."
        if "signingCredential.invalid" in codes:
            return (
                "The signing certificate is not acceptable for Content Credentials "
                "(for example it lacks a required key usage)."
            )
    return explain(state)


# --- Summary ------------------------------------------------------------------------------


def _empty_summary(state: str) -> dict:
    """The summary with every key present (templates and the CLI never test for keys).

    state, state_label, explanation    our state, its short label, a plain sentence
    validation_state                   c2pa's raw "Trusted" | "Valid" | "Invalid", or None
    failures, informational            [{code, explanation, url}] for the active manifest
    ingredient_failures                [{code, explanation, url, ingredient (title), path}]:
                                       problems found now in ingredients (ingredientDeltas)
    signer                             {organisation, common_name, issuer (the issuing CA),
                                       not_before, not_after, algorithm, serial_number} | None
    signed_at, timestamp_trusted       RFC 3161 time (None without one); True only when the
                                       timestamp authority is trusted ("timeStamp.trusted")
    claim_generator, title, format     of the active manifest (format: MIME type)
    actions                            [{action, software_agent, digital_source_type (short
                                       IPTC name), digital_source_type_uri, description, when}]
    ai_generated, ai_source            whether/where an AI source type is declared: {manifest,
                                       path, in_ingredient, ingredient_title, claim_generator,
                                       action, software_agent, digital_source_type} | None
    software_agents                    every software agent in the chain, active manifest first
    ingredients                        flat, depth first: [{path, depth, title, format,
                                       relationship, has_manifest, manifest, validation_state,
                                       failures, new_failures, claim_generator, signer,
                                       signed_at, actions, thumbnail (bool)}]; `path` is what
                                       ingredient_thumbnail() takes
    manifests_count                    manifests in the store
    error                              the reader's message when unreadable
    """
    return {
        "state": state,
        "state_label": STATE_LABELS[state],
        "explanation": explain(state),
        "validation_state": None,
        "failures": [],
        "ingredient_failures": [],
        "informational": [],
        "signer": None,
        "signed_at": None,
        "timestamp_trusted": False,
        "claim_generator": None,
        "title": None,
        "format": None,
        "actions": [],
        "ai_generated": False,
        "ai_source": None,
        "software_agents": [],
        "ingredients": [],
        "manifests_count": 0,
        "error": None,
    }


def _summarise(store: dict, crjson: dict, mime: str | None) -> dict:
    manifests: dict = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    active = manifests.get(active_label) or {}
    results = store.get("validation_results") or {}
    active_results = results.get("activeManifest") or {}
    certificates = {
        m.get("label"): (m.get("signature") or {}) for m in crjson.get("manifests") or []
    }
    state = _classify(store)
    failures = _codes(_status(active_results, "failure"))
    success_codes = {entry.get("code") for entry in _status(active_results, "success")}
    timestamp_trusted = "timeStamp.trusted" in success_codes

    deltas = _deltas_by_uri(results)
    chain = list(_walk(manifests, active_label))
    ai_source = next(_ai_declarations(chain, manifests), None)
    software_agents: list[str] = []
    for _, label, _ in chain:
        for action in _actions(manifests.get(label) or {}):
            agent = action["software_agent"]
            if agent and agent not in software_agents:
                software_agents.append(agent)

    by_uri = {ingredient["_assertion_uri"]: (path, ingredient) for path, _, ingredient in chain[1:]}
    ingredient_failures = []
    for uri, delta in deltas.items():
        path, ingredient = by_uri.get(uri, (None, {}))
        for failure in _codes(_status(delta, "failure")):
            failure["ingredient"] = ingredient.get("title")
            failure["path"] = list(path) if path is not None else None
            ingredient_failures.append(failure)

    summary = _empty_summary(state)
    summary.update(
        {
            "explanation": _explanation(state, failures, timestamp_trusted),
            "validation_state": store.get("validation_state"),
            "failures": failures,
            "ingredient_failures": ingredient_failures,
            "informational": _codes(_status(active_results, "informational")),
            "signer": _signer(active, certificates.get(active_label)),
            "signed_at": (active.get("signature_info") or {}).get("time"),
            "timestamp_trusted": timestamp_trusted,
            "claim_generator": _claim_generator(active),
            "title": active.get("title"),
            "format": _format(active.get("format")) or mime,
            "actions": _actions(active),
            "ai_generated": ai_source is not None,
            "ai_source": ai_source,
            "software_agents": software_agents,
            "ingredients": [
                _ingredient(path, ingredient, manifests, certificates, deltas)
                for path, _, ingredient in chain[1:]
            ],
            "manifests_count": len(manifests),
        }
    )
    return summary


def _deltas_by_uri(results: dict) -> dict[str, dict]:
    return {
        delta.get("ingredientAssertionURI"): delta.get("validationDeltas") or {}
        for delta in results.get("ingredientDeltas") or []
    }


def _walk(
    manifests: dict, label: str | None, path: tuple[int, ...] = (), seen: set | None = None
) -> Iterator[tuple[tuple[int, ...], str | None, dict]]:
    """(path, manifest label, ingredient) for the active manifest and every ingredient below.

    The first item is the active manifest itself (path (), ingredient {}). Depth first, so a
    flat list reads in chain order. `seen` stops a (malformed) cycle.
    """
    seen = set() if seen is None else seen
    if not path:
        yield (), label, {}
    if label is None or label in seen:
        return
    seen.add(label)
    for index, ingredient in enumerate((manifests.get(label) or {}).get("ingredients") or []):
        child_path = (*path, index)
        child_label = ingredient.get("active_manifest")
        ingredient = dict(ingredient)
        ingredient["_assertion_uri"] = (
            f"self#jumbf=/c2pa/{label}/c2pa.assertions/{ingredient.get('label')}"
        )
        yield child_path, child_label, ingredient
        if child_label in manifests:
            yield from _walk(manifests, child_label, child_path, seen)


def _ai_declarations(chain, manifests: dict) -> Iterator[dict]:
    for path, label, ingredient in chain:
        manifest = (manifests.get(label) if label else None) or {}
        for action in _actions(manifest):
            if action["digital_source_type"] in AI_SOURCE_TYPES:
                yield {
                    "manifest": label,
                    "path": list(path),
                    "in_ingredient": bool(path),
                    "ingredient_title": ingredient.get("title"),
                    "claim_generator": _claim_generator(manifest),
                    "action": action["action"],
                    "software_agent": action["software_agent"],
                    "digital_source_type": action["digital_source_type"],
                }


def _actions(manifest: dict) -> list[dict]:
    actions = []
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label") not in _ACTION_LABELS:
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            parameters = action.get("parameters") or {}
            source_uri = action.get("digitalSourceType") or parameters.get("digitalSourceType")
            actions.append(
                {
                    "action": action.get("action"),
                    "software_agent": _agent_text(action.get("softwareAgent")),
                    "digital_source_type": _short_source_type(source_uri),
                    "digital_source_type_uri": source_uri,
                    "description": parameters.get("description") or action.get("description"),
                    "when": action.get("when"),
                }
            )
    return actions


def _agent_text(agent) -> str | None:
    # Claim v1 writes softwareAgent as a string, v2 as {"name", "version"}.
    if isinstance(agent, dict):
        return " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k)) or None
    return str(agent) if agent else None


def _short_source_type(uri: str | None) -> str | None:
    return uri.rstrip("/").rsplit("/", 1)[-1] if uri else None


def _format(value: str | None) -> str | None:
    # Claim v1 manifests may record "webp" or "jpg" rather than a MIME type.
    short = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
    return short.get(value.lower(), value) if value else None


def _claim_generator(manifest: dict) -> str | None:
    if manifest.get("claim_generator"):
        return manifest["claim_generator"]
    names = [_agent_text(info) for info in manifest.get("claim_generator_info") or []]
    return ", ".join(name for name in names if name) or None


def _signer(manifest: dict, certificate: dict | None) -> dict | None:
    info = manifest.get("signature_info")
    if not info:
        return None
    cert = (certificate or {}).get("certificateInfo") or {}
    subject = cert.get("subject") or {}
    validity = cert.get("validity") or {}
    return {
        # signature_info.issuer is the signer's own organisation (subject O=), not its CA.
        "organisation": subject.get("O") or info.get("issuer"),
        "common_name": subject.get("CN") or info.get("common_name"),
        "issuer": _name_text(cert.get("issuer")),
        "not_before": validity.get("notBefore"),
        "not_after": validity.get("notAfter"),
        "algorithm": info.get("alg"),
        "serial_number": info.get("cert_serial_number"),
    }


def _name_text(name: dict | None) -> str | None:
    if not name:
        return None
    common_name, organisation = name.get("CN"), name.get("O")
    if common_name and organisation and common_name != organisation:
        return f"{common_name} ({organisation})"
    return common_name or organisation


def _ingredient(path, ingredient: dict, manifests: dict, certificates: dict, deltas: dict):
    label = ingredient.get("active_manifest")
    manifest = manifests.get(label) if label else None
    # What the signer recorded when it added the ingredient (claim v2 ingredients), plus what
    # changed since (ingredientDeltas). A trusted edit can hide an untrusted parent: show both.
    recorded = (ingredient.get("validation_results") or {}).get("activeManifest") or {}
    delta = deltas.get(ingredient.get("_assertion_uri")) or {}
    # Claim v1 ingredients record nothing, so their deltas are the whole story.
    failures = _codes(_status(recorded, "failure"))
    new_failures = _codes(_status(delta, "failure"))
    if not recorded:
        failures, new_failures = new_failures, []
    if not recorded and not delta and ingredient.get("validation_status"):
        failures = _codes(ingredient["validation_status"])
    success = {e.get("code") for e in _status(recorded, "success") + _status(delta, "success")}
    return {
        "path": list(path),
        "depth": len(path),
        "title": ingredient.get("title"),
        "format": _format(ingredient.get("format")),
        "relationship": ingredient.get("relationship"),
        "has_manifest": manifest is not None,
        "manifest": label if manifest is not None else None,
        "validation_state": _recorded_state(success, failures) if manifest else None,
        "failures": failures,
        "new_failures": new_failures,
        "claim_generator": _claim_generator(manifest) if manifest else None,
        "signer": _signer(manifest, certificates.get(label)) if manifest else None,
        "signed_at": ((manifest or {}).get("signature_info") or {}).get("time"),
        "actions": _actions(manifest) if manifest else [],
        "thumbnail": bool((ingredient.get("thumbnail") or {}).get("identifier")),
    }


def _recorded_state(success: set, failures: list[dict]) -> str:
    """c2pa's Trusted/Valid/Invalid rule applied to an ingredient's recorded results."""
    codes = {f["code"] for f in failures}
    tolerated = {c for c in codes if c == "signingCredential.untrusted" or c.startswith("cawg.")}
    if codes - tolerated or not {"claimSignature.validated", "claimSignature.insideValidity"} & (
        success
    ):
        return "Invalid"
    if not codes and "signingCredential.trusted" in success:
        return "Trusted"
    return "Valid"


# --- Signing ------------------------------------------------------------------------------


def sign_generated(data: bytes, *, output_format: str, model: str) -> bytes:
    """Sign an image the stand-in image API produced, shaped like OpenAI's manifests.

    The manifest declares c2pa.created with digitalSourceType trainedAlgorithmicMedia and
    softwareAgent {"name": model}, then c2pa.converted (as OpenAI's do), signed with the
    configured or development credential; no timestamp when C2PA_TSA_URL is unset.
    """
    mime = _signing_mime(output_format)
    manifest = {
        "claim_generator_info": [{"name": GENERATOR_NAME, "version": _version()}],
        "title": f"image.{_EXTENSIONS[mime]}",
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia",
                            "softwareAgent": {"name": model},
                        },
                        {"action": "c2pa.converted"},
                    ]
                },
            }
        ],
    }
    return _sign(manifest, mime, data)


def sign_edit(
    data: bytes,
    *,
    mime: str,
    parent: bytes,
    parent_mime: str,
    title: str,
    description: str,
    digital_source_type: str | None = None,
    components: tuple[tuple[bytes, str], ...] = (),
) -> bytes:
    """Sign an image the studio changed, keeping the chain back to the parent's credentials.

    The parent becomes a parentOf ingredient (its manifest store travels along); the actions
    are c2pa.opened (linked to that ingredient) and c2pa.edited by "Studio" with
    `description`. `digital_source_type` (an IPTC short name such as
    "compositeWithTrainedAlgorithmicMedia") is added to the edit when given. `components`
    (bytes, mime) are further images the result is made of (the untouched original of a
    "keep unmasked pixels" composite), added as componentOf ingredients with a c2pa.placed
    action.
    """
    mime = _signing_mime(mime)
    edited = {
        "action": "c2pa.edited",
        "softwareAgent": {"name": STUDIO_NAME, "version": _version()},
        "parameters": {"description": description},
    }
    if digital_source_type:
        edited["digitalSourceType"] = IPTC_SOURCE_TYPE + digital_source_type
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": STUDIO_NAME, "version": _version()}],
        "title": title,
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                        edited,
                    ]
                },
            }
        ],
    }
    ingredient = {
        "title": _parent_title(parent, parent_mime),
        "format": parent_mime,
        "relationship": "parentOf",
        "label": "parent",
    }
    ingredients = [(ingredient, parent_mime, parent)]
    for number, (component, component_mime) in enumerate(components, start=1):
        label = f"component{number}"
        ingredients.append(
            (
                {
                    "title": _parent_title(component, component_mime),
                    "format": component_mime,
                    "relationship": "componentOf",
                    "label": label,
                },
                component_mime,
                component,
            )
        )
        actions = manifest["assertions"][0]["data"]["actions"]
        actions.append({"action": "c2pa.placed", "parameters": {"ingredientIds": [label]}})
    return _sign(manifest, mime, data, ingredients=ingredients)


def _signing_mime(value: str) -> str:
    value = value.lower()
    mime = SIGNING_FORMATS.get(value) or SIGNING_FORMATS.get(value.removeprefix("image/"))
    if value == "jpg" or value == "image/jpg":
        mime = "image/jpeg"
    if mime is None:
        raise ValueError(f"Cannot sign {value!r}: use one of png, jpeg, webp.")
    return mime


def _parent_title(parent: bytes, parent_mime: str) -> str:
    summary = read(parent, mime=parent_mime).summary
    return summary["title"] or f"parent.{_EXTENSIONS.get(parent_mime, 'img')}"


def _sign(manifest: dict, mime: str, data: bytes, ingredients=()) -> bytes:
    credential = credentials.get_credential()
    alg = _SIGNING_ALGS.get(credential.alg)
    if alg is None:
        raise ImproperlyConfigured(
            f"C2PA_SIGN_ALG={credential.alg!r} is not one of {sorted(_SIGNING_ALGS)}."
        )
    info = c2pa.C2paSignerInfo(alg, credential.chain_pem, credential.key_pem, credential.tsa_url)
    out = io.BytesIO()
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(manifest, context=_reader_context()) as builder,
        ):
            for ingredient_json, ingredient_mime, ingredient_bytes in ingredients:
                builder.add_ingredient(
                    ingredient_json, ingredient_mime, io.BytesIO(ingredient_bytes)
                )
            builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise SigningError(f"Could not sign the {mime} image: {exc}") from exc
    return out.getvalue()


def _version() -> str:
    try:
        return metadata.version("studio")
    except metadata.PackageNotFoundError:
        return "0"
