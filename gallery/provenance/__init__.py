"""Content Credentials (C2PA): `manifests` reads, summarises and signs them (the only code
that imports c2pa), `verification` checks an uploaded file on the Verify page, `credentials` holds
the studio's signing credential, `trust/` the official trust lists. Callers use the names
below."""

from gallery.provenance.manifests import (  # noqa: F401 (the room's public names)
    AI_SOURCE_TYPES,
    GENERATOR_NAME,
    INGREDIENTS_SHOWN,
    INVALID,
    IPTC_SOURCE_TYPE,
    NONE,
    SIGNING_FORMATS,
    STATE_LABELS,
    STATES,
    STUDIO_NAME,
    TAMPERED,
    TRUSTED,
    UNREADABLE,
    VALID,
    Provenance,
    ProvenanceError,
    SigningError,
    explain,
    ingredient_key,
    ingredient_thumbnail,
    on_legacy_list,
    read,
    shown_ingredients,
    sign_edit,
    sign_generated,
    state_label,
)
