"""Media on S3-compatible storage (STUDIO_MEDIA_STORAGE=s3), for studios on many machines.

The one module that knows about S3. Objects are private: they are written without any ACL
(a bucket's objects belong to its owner only), and a browser only ever reaches one through a
view that checked who may see it, which either streams it or answers with a presigned URL
valid for STUDIO_S3_URL_SECONDS. As on local disk, a file is never rewritten once it exists:
every write is conditional (If-None-Match: *), and S3 checks each upload against its sha256.
"""

import base64
import hashlib
import mimetypes

from botocore.config import Config
from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PrivateS3Storage(S3Storage):
    default_acl = None
    querystring_auth = True
    file_overwrite = True  # names are content-addressed; a second writer would write the same

    def __init__(self, **options):
        # Plain single-request uploads with our own sha256 checksum: S3-compatible servers
        # (MinIO, Ceph, R2 ...) do not all accept the chunked checksums newer boto3 sends.
        options.setdefault(
            "client_config",
            Config(
                signature_version="s3v4",  # presigned URLs that say when they expire
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path" if options.get("endpoint_url") else "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )
        super().__init__(**options)

    def _save(self, name, content):
        """Upload the whole file in one request, only if nothing exists under that name yet,
        with its sha256 for S3 to check (a body damaged on the way is refused, not stored)."""
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        digest = hashlib.sha256(data).digest()
        try:
            self.connection.meta.client.put_object(
                Bucket=self.bucket_name,
                Key=key,
                Body=data,
                ContentType=mimetypes.guess_type(cleaned)[0] or "application/octet-stream",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode(),
                IfNoneMatch="*",
            )
        except ClientError as err:
            # Someone stored this name first. Names are content-addressed, so it holds these
            # very bytes; the existing object is kept, never replaced.
            if err.response.get("Error", {}).get("Code") not in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                raise
        return cleaned

    def stream(self, name: str, chunk_size: int = 256 * 1024):
        """The object's bytes as an iterator of chunks, straight from S3 (no temporary file)."""
        try:
            body = self.connection.meta.client.get_object(
                Bucket=self.bucket_name, Key=self._normalize_name(clean_name(name))
            )["Body"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from None
            raise
        return body.iter_chunks(chunk_size)

    def download_url(self, name: str, *, content_type: str, disposition: str) -> str:
        """A presigned GET valid for querystring_expire seconds, with the headers the studio
        would have sent itself."""
        return self.url(
            name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": "private, no-store",
            },
        )
