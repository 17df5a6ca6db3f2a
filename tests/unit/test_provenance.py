"""gallery.provenance: reading the shared C2PA fixtures, signing, the CLI, the dev credential.

The fixtures live in ../shared/fixtures (beside the repository); MANIFEST.tsv says how each
one reads with c2pa-python's default settings, README.txt how it reads with the C2PA test
roots configured.
"""

import io
import json
import multiprocessing
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from gallery import provenance
from gallery.provenance import credentials
from tests.helpers import SHARED_FIXTURES

SHARED = SHARED_FIXTURES
C2PA_FIXTURES = SHARED / "c2pa"
TEST_CREDENTIALS = SHARED / "c2pa-signing" / "c2pa-test-credentials"
GENERATED_CREDENTIALS = SHARED / "c2pa-signing" / "generated-with-cryptography"
TEST_ROOTS = TEST_CREDENTIALS / "test_cert_root_bundle.pem"
MS_VALIDATOR_CHAIN = C2PA_FIXTURES / "ms-validator_trusted_chain.pem"

CAPE_BEAR = "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp"
ADOBE_PNG = "c2pa-c_adobe-content-authenticity_A-signed.png"
MS_VALIDATOR = "ms-validator_cards_trusted.webp"

# README.txt: with the C2PA test roots (and the ms-validator chain) as anchors these read
# "Trusted"; every other file keeps the state it has with the default settings.
TRUSTED_WITH_TEST_ANCHORS = {
    "c2pa-rs_C.jpg",
    "c2pa-rs_CA.jpg",
    "c2pa-rs_CACA.jpg",
    "c2pa-ts_trustnxt-icon-signed-timestamp.jpg",
    MS_VALIDATOR,
}

# MANIFEST.tsv was recorded with c2pa-python's own defaults: no trust anchors, no EKU list.
# The project's defaults add the official C2PA trust list (which none of these files chain to,
# so nothing changes) and the EKU list in C2PA_TRUST_CONFIG_FILE. The EKU list makes exactly
# one difference: Microsoft's test chain uses an EKU outside c2pa-rs's built-in set, so
# "signingCredential.invalid" (certificate missing required EKU) disappears and the file reads
# Valid instead of Invalid. test_library_defaults_reproduce_manifest_tsv_exactly shows the
# recorded reading when the EKU list is left out.
PROJECT_DEFAULT_DIFFERENCES = {
    MS_VALIDATOR: ("Valid", ["signingCredential.untrusted"], []),
}


def _manifest_rows() -> list[dict]:
    lines = (C2PA_FIXTURES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]
    return [row for row in rows if row["expected_validation"] != "n/a"]


def _expected(text: str) -> dict:
    """Parse MANIFEST.tsv's expected_validation column.

    "Valid [a, b, ingredient:c]" -> state Valid, failures [a, b], ingredient failures [c];
    "C2paError.Other: Other: unknown algorithm" -> error "Other: unknown algorithm";
    "C2paError.ManifestNotFound: ..." -> no manifest.
    """
    if match := re.fullmatch(r"(Trusted|Valid|Invalid) \[(.*)\]", text):
        codes = [c.strip() for c in match.group(2).split(",") if c.strip()]
        return {
            "validation_state": match.group(1),
            "failures": [c for c in codes if not c.startswith("ingredient:")],
            "ingredient_failures": [
                c.removeprefix("ingredient:") for c in codes if c.startswith("ingredient:")
            ],
        }
    match = re.fullmatch(r"C2paError(?:\.(\w+))?: (.*)", text)
    assert match, f"unparsed expected_validation: {text!r}"
    return {"validation_state": None, "exception": match.group(1), "error": match.group(2)}


MANIFEST_ROWS = _manifest_rows()
ROW_IDS = [row["file"] for row in MANIFEST_ROWS]


def _fixture(name: str) -> bytes:
    return (C2PA_FIXTURES / name).read_bytes()


def _codes(entries: list[dict]) -> list[str]:
    return sorted(entry["code"] for entry in entries)


def _assert_reads_as(result: provenance.Provenance, expected: dict) -> None:
    summary = result.summary
    assert summary["validation_state"] == expected["validation_state"]
    if expected["validation_state"] is None:
        if expected["exception"] == "ManifestNotFound":
            assert result.state == provenance.NONE
            assert result.manifest_json is None
        else:
            assert result.state == provenance.UNREADABLE
            # The recorded "Remote: could not fetch ..." came from a reader that tried the
            # network; ours is told not to, so only the error kind must agree.
            kind = expected["error"].split(":")[0]
            assert summary["error"].split(":")[0] == kind
            if kind != "Remote":
                assert summary["error"] == expected["error"]
        return
    assert _codes(summary["failures"]) == sorted(expected["failures"])
    assert _codes(summary["ingredient_failures"]) == sorted(expected["ingredient_failures"])


@pytest.fixture
def test_anchors(settings):
    settings.C2PA_TRUST_ANCHOR_FILES = [
        *settings.C2PA_TRUST_ANCHOR_FILES,
        TEST_ROOTS,
        MS_VALIDATOR_CHAIN,
    ]


@pytest.fixture
def dev_dir(settings, tmp_path_factory):
    """A development credential folder for this test session, never the project's var/."""
    directory = tmp_path_factory.getbasetemp() / "c2pa-dev"
    settings.C2PA_DEV_DIR = directory
    settings.C2PA_SIGN_CERT_FILE = ""
    settings.C2PA_SIGN_KEY_FILE = ""
    settings.C2PA_TSA_URL = None
    return directory


@pytest.fixture
def dev_root_trusted(settings, dev_dir):
    root = credentials.ensure_development_credential(dev_dir).root
    settings.C2PA_TRUST_ANCHOR_FILES = [*settings.C2PA_TRUST_ANCHOR_FILES, root]


def _image(fmt: str, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, fmt.upper())
    return out.getvalue()


# --- Reading the shared fixtures -----------------------------------------------------------


def test_fixtures_are_unchanged():
    import hashlib

    for line in (C2PA_FIXTURES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256(_fixture(name.lstrip("*"))).hexdigest() == digest, name


@pytest.mark.parametrize("row", MANIFEST_ROWS, ids=ROW_IDS)
def test_fixture_reads_as_manifest_tsv_says_with_project_defaults(row):
    expected = _expected(row["expected_validation"])
    if row["file"] in PROJECT_DEFAULT_DIFFERENCES:
        state, failures, ingredient_failures = PROJECT_DEFAULT_DIFFERENCES[row["file"]]
        assert expected["validation_state"] != state  # the difference is real, not stale
        expected = {
            "validation_state": state,
            "failures": failures,
            "ingredient_failures": ingredient_failures,
        }

    _assert_reads_as(provenance.read(_fixture(row["file"])), expected)


@pytest.mark.parametrize("row", MANIFEST_ROWS, ids=ROW_IDS)
def test_library_defaults_reproduce_manifest_tsv_exactly(row, settings):
    settings.C2PA_TRUST_ANCHOR_FILES = []
    settings.C2PA_TRUST_CONFIG_FILE = None

    result = provenance.read(_fixture(row["file"]))

    _assert_reads_as(result, _expected(row["expected_validation"]))


def test_eku_list_turns_microsoft_signed_file_from_invalid_to_valid(settings):
    assert provenance.read(_fixture(MS_VALIDATOR)).state == provenance.VALID
    settings.C2PA_TRUST_CONFIG_FILE = None

    result = provenance.read(_fixture(MS_VALIDATOR))

    assert result.state == provenance.INVALID
    assert "signingCredential.invalid" in _codes(result.summary["failures"])
    assert "key usage" in result.summary["explanation"]


@pytest.mark.parametrize("row", MANIFEST_ROWS, ids=ROW_IDS)
def test_fixture_reads_as_readme_says_with_test_anchors(row, test_anchors):
    result = provenance.read(_fixture(row["file"]))

    if row["file"] in TRUSTED_WITH_TEST_ANCHORS:
        assert result.state == provenance.TRUSTED
        assert result.summary["validation_state"] == "Trusted"
        assert result.summary["failures"] == []
    else:
        # Tampered/expired stay Invalid, vendor files stay Valid (their CAs are not anchors).
        expected = _expected(row["expected_validation"])
        expected_state = {
            "Valid": provenance.VALID,
            "Invalid": provenance.INVALID,
        }.get(expected["validation_state"])
        if row["file"] == "c2pa-rs_XCA.jpg":
            expected_state = provenance.TAMPERED
        if expected["validation_state"] is None:
            expected_state = (
                provenance.NONE
                if expected["exception"] == "ManifestNotFound"
                else provenance.UNREADABLE
            )
        assert result.state == expected_state
        assert result.summary["validation_state"] == expected["validation_state"]


def test_openai_cape_bear_is_ai_generated_with_the_claim_in_the_ingredient():
    result = provenance.read(_fixture(CAPE_BEAR), mime="image/webp")
    summary = result.summary

    assert result.state == provenance.VALID
    assert result.ai_generated is True
    assert summary["actions"] == []  # the ChatGPT wrapper declares nothing itself
    assert summary["ai_source"]["in_ingredient"] is True
    assert summary["ai_source"]["path"] == [0]
    assert summary["ai_source"]["software_agent"] == "DALL·E"
    assert summary["ai_source"]["digital_source_type"] == "trainedAlgorithmicMedia"
    assert summary["ai_source"]["claim_generator"] == "OpenAI-API c2pa-rs/0.28.4"
    assert summary["software_agents"] == ["DALL·E"]
    assert summary["claim_generator"] == "ChatGPT c2pa-rs/0.28.4"
    assert summary["manifests_count"] == 2
    assert summary["signer"]["organisation"] == "OpenAI"
    assert summary["signer"]["common_name"] == "Truepic Lens CLI in ChatGPT"
    assert summary["signer"]["issuer"] == "WebClaimSigningCA (Truepic)"
    assert summary["signer"]["not_after"].startswith("2025-01-29")
    assert summary["signed_at"] == "2024-02-27T01:03:12+00:00"
    assert summary["timestamp_trusted"] is True
    [ingredient] = summary["ingredients"]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["has_manifest"] is True
    assert ingredient["validation_state"] == "Valid"
    assert _codes(ingredient["failures"]) == ["signingCredential.untrusted"]
    assert ingredient["signer"]["common_name"] == "Truepic Lens CLI in DALL·E"
    assert [a["action"] for a in ingredient["actions"]] == ["c2pa.created", "c2pa.converted"]
    assert ingredient["actions"][0]["digital_source_type_uri"] == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    assert ingredient["thumbnail"] is True
    assert json.loads(result.manifest_json)["active_manifest"]


def test_tampered_pixels_read_as_tampered():
    result = provenance.read(_fixture("c2pa-rs_XCA.jpg"))

    assert result.state == provenance.TAMPERED
    assert "assertion.dataHash.mismatch" in _codes(result.summary["failures"])
    assert result.summary["state_label"] == "Tampered"


def test_adobe_png_is_invalid_because_its_certificate_expired_not_forged():
    summary = provenance.read(_fixture(ADOBE_PNG)).summary

    assert summary["state"] == provenance.INVALID
    assert "signingCredential.expired" in _codes(summary["failures"])
    assert summary["timestamp_trusted"] is False  # it has a timestamp, from an untrusted TSA
    assert summary["signed_at"] == "2025-05-12T19:19:26+00:00"
    assert summary["explanation"].startswith("Signed without a trusted timestamp")
    assert "expired" in summary["explanation"]
    assert summary["signer"]["not_after"].startswith("2026-05-08")


def test_generative_photoshop_edit_declares_ai_in_the_active_manifest():
    summary = provenance.read(_fixture("c2pa-rs_ocsp.jpg")).summary

    assert summary["ai_generated"] is True
    assert summary["ai_source"]["in_ingredient"] is False
    assert summary["ai_source"]["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert summary["ingredients"][0]["relationship"] == "componentOf"


def test_algorithmic_media_is_not_counted_as_ai():
    summary = provenance.read(_fixture("c2pa-rs_C.jpg")).summary

    assert summary["actions"][0]["digital_source_type"] == "algorithmicMedia"
    assert summary["ai_generated"] is False


def test_two_level_chain_lists_nested_ingredients_in_order():
    summary = provenance.read(_fixture("c2pa-rs_CACA.jpg")).summary

    assert [(i["path"], i["title"], i["has_manifest"]) for i in summary["ingredients"]] == [
        ([0], "CA.jpg", True),
        ([0, 0], "A.jpg", False),
    ]


def test_remote_only_manifest_is_unreadable_without_fetching():
    result = provenance.read(_fixture("c2pa-rs_cloud.jpg"), mime="image/jpeg")

    assert result.state == provenance.UNREADABLE
    # c2pa-rs says "could not fetch" after trying the network, "must fetch" when told not to.
    assert result.summary["error"].startswith("Remote: must fetch remote manifests from url")
    assert "remote server" in result.summary["explanation"]


def test_wrong_mime_hint_still_reads_the_real_container():
    result = provenance.read(_fixture(ADOBE_PNG), mime="image/jpeg")

    assert result.summary["validation_state"] == "Invalid"
    assert result.summary["format"] == "image/png"


def _bmp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "BMP")
    return out.getvalue()


TEXT = b"hello, this is not an image\n" * 10

# name -> (make the bytes, MIME hint, expected state); made lazily, some are large.
BAD_INPUTS = {
    "empty": (lambda: b"", None, provenance.UNREADABLE),
    "empty as png": (lambda: b"", "image/png", provenance.UNREADABLE),
    "text": (lambda: TEXT, None, provenance.UNREADABLE),
    "text as png": (lambda: TEXT, "image/png", provenance.UNREADABLE),
    "truncated signed png": (
        lambda: _fixture(ADOBE_PNG)[:300_000],
        "image/png",
        provenance.UNREADABLE,
    ),
    "truncated signed jpeg": (
        lambda: _fixture("c2pa-rs_CA.jpg")[:5_000],
        "image/jpeg",
        provenance.UNREADABLE,
    ),
    "bmp": (_bmp, "image/bmp", provenance.UNREADABLE),
    "bmp without mime": (_bmp, None, provenance.UNREADABLE),
    "huge random bytes": (lambda: os.urandom(48 * 1024 * 1024), None, provenance.UNREADABLE),
    # A JPEG start marker makes the reader look for (and not find) C2PA segments.
    "huge random bytes as jpeg": (
        lambda: b"\xff\xd8\xff" + os.urandom(8 * 1024 * 1024),
        "image/jpeg",
        provenance.NONE,
    ),
    "unknown mime": (
        lambda: b"GIF89a" + bytes(100),
        "application/x-nonsense",
        provenance.UNREADABLE,
    ),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_never_raises(name):
    make, mime, expected_state = BAD_INPUTS[name]

    result = provenance.read(make(), mime=mime)

    assert result.state == expected_state
    assert result.ai_generated is False
    assert result.manifest_json is None
    json.dumps(result.summary)
    if result.state == provenance.UNREADABLE:
        assert result.summary["error"]


def test_empty_file_says_so():
    assert provenance.read(b"").summary["error"] == "The file is empty."


def test_truncated_signed_png_is_unreadable_with_the_readers_message():
    result = provenance.read(_fixture(ADOBE_PNG)[:300_000], mime="image/png")

    assert result.state == provenance.UNREADABLE
    assert result.summary["error"].startswith("Other: asset could not be parsed")


def test_unsupported_file_type_is_explained():
    result = provenance.read(_bmp(), mime="image/bmp")

    assert result.state == provenance.UNREADABLE
    assert "file type" in result.summary["explanation"]


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    replacement=st.binary(min_size=1, max_size=16),
    name=st.sampled_from(
        [CAPE_BEAR, "c2pa-rs_CACA.jpg", "c2pa-ts_trustnxt-icon-signed-timestamp.jpg"]
    ),
)
def test_corrupted_signed_files_never_raise(position, replacement, name):
    data = bytearray(_fixture(name))
    start = int(position * len(data))
    data[start : start + len(replacement)] = replacement

    result = provenance.read(bytes(data))

    assert result.state in provenance.STATES
    json.dumps(result.summary)


def test_every_summary_is_json_serialisable_and_complete():
    keys = set(provenance.read(b"").summary)
    for row in MANIFEST_ROWS:
        summary = provenance.read(_fixture(row["file"])).summary
        assert set(summary) == keys
        assert json.loads(json.dumps(summary)) == summary


def test_every_state_has_a_label_and_an_explanation():
    for state in provenance.STATES:
        assert provenance.state_label(state)
        assert provenance.explain(state).endswith(".")


def test_reads_from_many_threads_agree_with_sequential_reads(test_anchors):
    names = [row["file"] for row in MANIFEST_ROWS] * 4
    sequential = {name: provenance.read(_fixture(name)).summary for name in set(names)}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: (name, provenance.read(_fixture(name))), names))

    for name, result in results:
        assert result.summary == sequential[name], name


def test_unreadable_trust_anchor_file_is_a_configuration_error(settings, tmp_path):
    settings.C2PA_TRUST_ANCHOR_FILES = [tmp_path / "missing.pem"]

    with pytest.raises(ImproperlyConfigured, match="missing.pem"):
        provenance.read(_fixture("c2pa-rs_C.jpg"))


def test_malformed_trust_anchor_file_is_a_configuration_error(settings, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    settings.C2PA_TRUST_ANCHOR_FILES = [bad]

    with pytest.raises(ImproperlyConfigured):
        provenance.read(_fixture("c2pa-rs_C.jpg"))


# --- Thumbnails ---------------------------------------------------------------------------


def test_ingredient_thumbnail_returns_the_image_the_manifest_carries():
    image, mime = provenance.ingredient_thumbnail(_fixture(CAPE_BEAR), (0,))

    assert mime == "image/jpeg"
    assert Image.open(io.BytesIO(image)).format == "JPEG"


def test_nested_ingredient_thumbnail_and_own_claim_thumbnail():
    data = _fixture("c2pa-rs_CACA.jpg")

    assert provenance.ingredient_thumbnail(data, (0, 0))[1] == "image/jpeg"
    assert provenance.ingredient_thumbnail(data, ())[1] == "image/jpeg"


def test_missing_thumbnail_is_none():
    assert provenance.ingredient_thumbnail(_fixture(CAPE_BEAR), ()) is None  # none in manifest
    assert provenance.ingredient_thumbnail(_fixture(CAPE_BEAR), (3,)) is None
    assert provenance.ingredient_thumbnail(_fixture("c2pa-rs_no_manifest.jpg"), (0,)) is None
    assert provenance.ingredient_thumbnail(b"", (0,)) is None


# --- Signing ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_sign_generated_reads_valid_ai_generated_by_the_model(fmt, dev_dir):
    signed = provenance.sign_generated(_image(fmt), output_format=fmt, model="gpt-image-1")

    result = provenance.read(signed, mime=f"image/{fmt}")
    summary = result.summary
    assert result.state == provenance.VALID
    assert _codes(summary["failures"]) == ["signingCredential.untrusted"]
    assert result.ai_generated is True
    assert summary["ai_source"]["in_ingredient"] is False
    assert summary["ai_source"]["software_agent"] == "gpt-image-1"
    assert summary["software_agents"] == ["gpt-image-1"]
    assert summary["actions"][0]["action"] == "c2pa.created"
    assert summary["actions"][0]["digital_source_type"] == "trainedAlgorithmicMedia"
    assert summary["claim_generator"].startswith("OpenAI-API (stand-in)")
    assert summary["signer"]["organisation"] == "Studio development (TEST)"
    assert summary["signed_at"] is None  # no TSA configured
    assert summary["format"] == f"image/{fmt}"
    assert Image.open(io.BytesIO(signed)).size == (64, 48)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_sign_generated_is_trusted_with_the_dev_root_as_anchor(fmt, dev_root_trusted):
    signed = provenance.sign_generated(_image(fmt), output_format=fmt, model="dall-e-3")

    result = provenance.read(signed)

    assert result.state == provenance.TRUSTED
    assert result.summary["failures"] == []


def test_sign_generated_refuses_other_formats(dev_dir):
    with pytest.raises(ValueError, match="png, jpeg, webp"):
        provenance.sign_generated(_image("gif"), output_format="gif", model="gpt-image-1")


def test_sign_edit_keeps_the_chain_back_to_the_generated_image(dev_dir):
    generated = provenance.sign_generated(_image("png"), output_format="png", model="gpt-image-1")

    edited = provenance.sign_edit(
        _image("png", size=(64, 48)),
        mime="image/png",
        parent=generated,
        parent_mime="image/png",
        title="composite.png",
        description="Kept the unmasked pixels of the original",
    )

    result = provenance.read(edited)
    summary = result.summary
    assert result.state == provenance.VALID
    assert summary["manifests_count"] == 2
    assert result.ai_generated is True
    assert summary["ai_source"]["in_ingredient"] is True
    assert summary["ai_source"]["software_agent"] == "gpt-image-1"
    assert summary["title"] == "composite.png"
    assert [a["action"] for a in summary["actions"]] == ["c2pa.opened", "c2pa.edited"]
    edit = summary["actions"][1]
    assert edit["software_agent"].startswith("Studio")
    assert edit["description"] == "Kept the unmasked pixels of the original"
    assert summary["software_agents"][0].startswith("Studio")
    assert "gpt-image-1" in summary["software_agents"]
    [parent] = summary["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["has_manifest"] is True
    assert parent["title"] == "image.png"
    assert parent["claim_generator"].startswith("OpenAI-API (stand-in)")


def test_sign_edit_is_trusted_with_the_dev_root_and_records_the_parent_as_trusted(
    dev_root_trusted,
):
    generated = provenance.sign_generated(_image("jpeg"), output_format="jpeg", model="m")

    edited = provenance.sign_edit(
        _image("webp"),
        mime="image/webp",
        parent=generated,
        parent_mime="image/jpeg",
        title="edit.webp",
        description="converted",
    )

    summary = provenance.read(edited).summary
    assert summary["state"] == provenance.TRUSTED
    assert summary["ingredients"][0]["validation_state"] == "Trusted"


def test_sign_edit_of_a_real_openai_image_keeps_all_three_manifests(dev_dir):
    edited = provenance.sign_edit(
        _image("png"),
        mime="image/png",
        parent=_fixture(CAPE_BEAR),
        parent_mime="image/webp",
        title="cape-bear-edit.png",
        description="inpainted the sky",
        digital_source_type="compositeWithTrainedAlgorithmicMedia",
    )

    summary = provenance.read(edited).summary
    assert summary["manifests_count"] == 3
    assert summary["ai_generated"] is True
    # The studio's own edit now declares the composite, so it is found first.
    assert summary["ai_source"]["in_ingredient"] is False
    assert [i["path"] for i in summary["ingredients"]] == [[0], [0, 0]]
    # The untrusted OpenAI signer stays visible on the ingredient.
    assert _codes(summary["ingredients"][0]["failures"]) == ["signingCredential.untrusted"]
    assert "DALL·E" in summary["software_agents"]


def test_sign_with_a_configured_credential(settings, tmp_path):
    settings.C2PA_DEV_DIR = tmp_path / "unused"
    settings.C2PA_SIGN_CERT_FILE = str(TEST_CREDENTIALS / "ps256_certs.pem")
    settings.C2PA_SIGN_KEY_FILE = str(TEST_CREDENTIALS / "ps256_private.key")
    settings.C2PA_SIGN_ALG = "ps256"
    settings.C2PA_TRUST_ANCHOR_FILES = [TEST_ROOTS]

    signed = provenance.sign_generated(_image("png"), output_format="png", model="gpt-image-1")

    summary = provenance.read(signed).summary
    assert summary["state"] == provenance.TRUSTED
    assert summary["signer"]["common_name"] == "C2PA Signer"
    assert summary["signer"]["algorithm"] == "Ps256"
    assert not (tmp_path / "unused").exists()


def test_half_configured_credential_is_a_configuration_error(settings):
    settings.C2PA_SIGN_CERT_FILE = str(GENERATED_CREDENTIALS / "es256_chain.pem")
    settings.C2PA_SIGN_KEY_FILE = ""

    with pytest.raises(ImproperlyConfigured, match="C2PA_SIGN_KEY_FILE"):
        provenance.sign_generated(_image("png"), output_format="png", model="m")


def test_unreachable_timestamp_authority_is_a_signing_error(dev_dir, settings):
    settings.C2PA_TSA_URL = "http://127.0.0.1:9/"  # the discard port: refused locally

    with pytest.raises(provenance.SigningError, match="Could not sign"):
        provenance.sign_generated(_image("png"), output_format="png", model="m")


def test_signing_bytes_that_are_not_the_declared_image_is_a_signing_error(dev_dir):
    with pytest.raises(provenance.SigningError):
        provenance.sign_generated(b"not an image", output_format="png", model="m")


# --- Development credential ---------------------------------------------------------------


def test_dev_credential_is_created_once_with_private_key_files(tmp_path):
    directory = tmp_path / "dev"

    first = credentials.ensure_development_credential(directory)
    chain_before = first.chain.read_bytes()
    inode_before = first.key.stat().st_ino
    second = credentials.ensure_development_credential(directory)

    assert second == first
    assert second.chain.read_bytes() == chain_before
    assert second.key.stat().st_ino == inode_before
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert sorted(p.name for p in directory.glob("*.key")) == ["dev_signer.key"]
    assert (directory / ".gitignore").read_text() == "*\n"


def test_dev_credential_is_a_leaf_and_intermediate_under_a_separate_root(tmp_path):
    paths = credentials.ensure_development_credential(tmp_path)

    leaf, intermediate = x509.load_pem_x509_certificates(paths.chain.read_bytes())
    root = x509.load_pem_x509_certificate(paths.root.read_bytes())
    assert leaf.issuer == intermediate.subject
    assert intermediate.issuer == root.subject
    assert root.subject not in (leaf.subject, intermediate.subject)
    organisation = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert organisation == "Studio development (TEST)"
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def _ensure_in_child(directory, barrier, results):
    barrier.wait()
    paths = credentials.ensure_development_credential(Path(directory))
    results.put(paths.chain.read_bytes() + paths.key.read_bytes())


def test_racing_processes_end_up_with_one_dev_credential(tmp_path):
    context = multiprocessing.get_context("spawn")
    count = 6
    barrier, results = context.Barrier(count), context.Queue()
    workers = [
        context.Process(target=_ensure_in_child, args=(str(tmp_path), barrier, results))
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    seen = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)

    assert all(worker.exitcode == 0 for worker in workers)
    assert len(seen) == 1
    assert seen == {
        (tmp_path / "dev_chain.pem").read_bytes() + (tmp_path / "dev_signer.key").read_bytes()
    }


def test_expiring_dev_credential_is_replaced(tmp_path, monkeypatch):
    first = credentials.ensure_development_credential(tmp_path)
    chain = first.chain.read_bytes()
    monkeypatch.setattr(credentials, "_RENEW_BEFORE", credentials.dt.timedelta(days=365 * 6))

    credentials.ensure_development_credential(tmp_path)

    assert first.chain.read_bytes() != chain


# --- Management commands ------------------------------------------------------------------


def test_provenance_command_prints_a_readable_summary():
    out = io.StringIO()

    call_command("provenance", str(C2PA_FIXTURES / CAPE_BEAR), stdout=out)

    text = out.getvalue()
    assert "Valid signature, signer not on the trust list" in text
    assert "WebClaimSigningCA (Truepic)" in text
    assert "AI-generated:" in text and "DALL·E" in text
    assert "[0] image.webp" in text


def test_provenance_command_json_is_the_summary():
    out = io.StringIO()
    paths = [C2PA_FIXTURES / "c2pa-rs_XCA.jpg", C2PA_FIXTURES / "c2pa-rs_cloud.jpg"]

    call_command("provenance", *map(str, paths), "--json", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, paths, strict=True):
        parsed = json.loads(line)
        assert parsed.pop("file") == str(path)
        assert parsed == provenance.read(path.read_bytes()).summary
    assert json.loads(lines[0])["state"] == "tampered"


def test_provenance_command_saves_an_ingredient_thumbnail(tmp_path):
    target = tmp_path / "thumb.jpg"

    call_command(
        "provenance",
        str(C2PA_FIXTURES / CAPE_BEAR),
        "--thumbnail",
        "0",
        "-o",
        str(target),
        stdout=io.StringIO(),
    )

    assert Image.open(target).format == "JPEG"


def test_bench_command_runs():
    out = io.StringIO()

    call_command("bench_provenance", str(C2PA_FIXTURES / "c2pa-rs_C.jpg"), "-n", "2", stdout=out)

    assert "c2pa-rs_C.jpg" in out.getvalue()
    assert "largest" in out.getvalue()
