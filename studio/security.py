"""Security plumbing: the Content Security Policy header, login throttling against password
guessing, and the page shown when a form's CSRF token is missing or stale."""

import hashlib
import unicodedata

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import render

from gallery.jobs import limits

# Only what the pages use: our own scripts and styles (inline style attributes are allowed;
# inline scripts are not), images from our own views plus data:/blob: URLs for previews of
# files a person picks in the browser.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Referrer-Policy", "same-origin")
        return response


def normalise_username(username: str) -> str:
    """One spelling per name for counting sign-in failures: NFKC (fullwidth and other
    compatibility forms fold to their plain letters), surrounding space stripped, case folded.
    "ALICE", " alice" and "ａｌｉｃｅ" all count as "alice"."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _throttle_key(request, username: str) -> str:
    ip = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{normalise_username(username)}|{ip}".encode()).hexdigest()
    return f"login:{digest}"


class ThrottledLoginMixin:
    """At most STUDIO_LOGIN_MAX_FAILURES wrong passwords for one name from one address per
    STUDIO_LOGIN_LOCKOUT_SECONDS; after that, further tries are refused without checking the
    password.

    Each try takes one attempt from the allowance before the password is checked (the check
    and the count are one conditional UPDATE, gallery.jobs.limits), so parallel guesses get no
    more tries than sequential ones; a successful sign-in gives its attempt back. Used by the
    studio's sign-in page and the admin's."""

    def clean(self):
        username = str(self.data.get("username", ""))
        attempt = limits.take(
            _throttle_key(self.request, username),
            1,
            limit=settings.STUDIO_LOGIN_MAX_FAILURES,
            window_seconds=settings.STUDIO_LOGIN_LOCKOUT_SECONDS,
        )
        if isinstance(attempt, limits.Refused):
            minutes = max(1, settings.STUDIO_LOGIN_LOCKOUT_SECONDS // 60)
            raise ValidationError(
                f"Too many failed sign-ins for this account. Wait {minutes} minutes and try again.",
                code="throttled",
            )
        cleaned = super().clean()  # a wrong password raises, and the attempt stays used
        limits.give_back(attempt)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm


def csrf_failure(request, reason=""):
    """A missing or stale CSRF token: say what happened and what to do, submit nothing."""
    return render(request, "403_csrf.html", status=403)
