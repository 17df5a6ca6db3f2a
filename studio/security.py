"""Security plumbing: the Content Security Policy header, login throttling against password
guessing, and the page shown when a form's CSRF token is missing or stale."""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import render

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


def _throttle_key(request, username: str) -> str:
    ip = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{username.lower()}|{ip}".encode()).hexdigest()
    return f"login-failures:{digest}"


class ThrottledAuthenticationForm(AuthenticationForm):
    """After LOGIN_MAX_FAILURES wrong passwords for one name from one address, refuse
    further tries for LOGIN_LOCKOUT_SECONDS, without even checking the password."""

    def clean(self):
        username = self.data.get("username", "")
        key = _throttle_key(self.request, username)
        if cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES:
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise ValidationError(
                f"Too many failed sign-ins for this account. Wait {minutes} minutes and try again.",
                code="throttled",
            )
        try:
            return super().clean()
        except ValidationError:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)
            raise


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm


def csrf_failure(request, reason=""):
    """A missing or stale CSRF token: say what happened and what to do, submit nothing."""
    return render(request, "403_csrf.html", status=403)
