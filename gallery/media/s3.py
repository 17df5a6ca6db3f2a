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
import threading

from botocore.config import Config
from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# django-storages makes a boto3 session and resource per thread, and each new session loads
# S3's whole service model again (hundreds of ms of CPU and megabytes each). A worker runs 200
# threads, so the hot paths (exists, save, delete, listdir, stream, presign) share one
# thread-safe client, and
# the rest makes each thread's resource from one shared session, one at a time.
_connect_lock = threading.Lock()


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
                max_pool_connections=100,
            ),
        )
        super().__init__(**options)
        self._shared_session = None
        self._client = None

    @property
    def client(self):
        """One low-level client for every thread (boto3 clients are thread-safe)."""
        if self._client is None:
            with _connect_lock:
                if self._client is None:
                    self._client = self._create_session().client(
                        "s3",
                        region_name=self.region_name,
                        use_ssl=self.use_ssl,
                        endpoint_url=self.endpoint_url,
                        config=self.client_config,
                        verify=self.verify,
                    )
        return self._client

    @property
    def connection(self):
        connection = getattr(self._connections, "connection", None)
        if connection is None:
            with _connect_lock:
                connection = super().connection
        return connection

    def _create_session(self):
        if self._shared_session is None:
            self._shared_session = super()._create_session()
        return self._shared_session

    def exists(self, name):
        try:
            self.client.head_object(Bucket=self.bucket_name, Key=self._key(name))
        except ClientError as err:
            if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return False
            raise
        return True

    def delete(self, name):
        # S3 answers a delete of a missing key with success, as Django's API expects.
        self.client.delete_object(Bucket=self.bucket_name, Key=self._key(name))

    def listdir(self, name):
        prefix = self._key(name)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        directories, files = [], []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Delimiter="/", Prefix=prefix
        )
        for page in pages:
            directories += [
                p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", ())
            ]
            files += [
                o["Key"][len(prefix) :] for o in page.get("Contents", ()) if o["Key"] != prefix
            ]
        return directories, files

    def _key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

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
            self.client.put_object(
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
            body = self.client.get_object(Bucket=self.bucket_name, Key=self._key(name))["Body"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from None
            raise
        return body.iter_chunks(chunk_size)

    def download_url(self, name: str, *, content_type: str, disposition: str) -> str:
        """A presigned GET valid for querystring_expire seconds, with the headers the studio
        would have sent itself."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket_name,
                "Key": self._key(name),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=self.querystring_expire,
        )
