"""The image API (OpenAI or an OpenAI-compatible gateway): `client` is the only code that
speaks HTTP to it, `registry` says what each model accepts and costs, `standin/` is the
offline server that speaks the same protocol. Callers use the names below."""

from gallery.imagesapi.client import (  # noqa: F401 (the room's public names)
    MAX_RETRY_AFTER,
    STANDIN_KEY,
    APIError,
    InputFile,
    PartialCallback,
    PermanentError,
    Result,
    TransientError,
    edit,
    error_from_response,
    generate,
    list_models,
    retry_after,
)
