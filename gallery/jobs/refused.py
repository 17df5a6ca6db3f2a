"""Refused: what every "no" of the job rooms shares.

A refusal means nothing of the request was stored. Its `message` tells the person why and
what to do; `status` is the HTTP status a page answers with, and `retry_after` (seconds) is set
when trying again later will work. The subclasses say which rule refused: limits.LimitExceeded,
budgets.OverBudget, create.ModelUnavailable, edits.EditRefused, uploads.UploadRefused. Views
catch Refused once; the OpenAI-compatible endpoint tells them apart for OpenAI's error codes.
"""


class Refused(Exception):
    status = 400

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
