from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gallery.views import accounts
from studio import health, security

# The admin's sign-in page is throttled like the studio's (same counter, same key).
admin.site.login_form = security.ThrottledAdminAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/invites/", accounts.invites, name="invites"),
    path("accounts/settings/", accounts.preferences, name="account-settings"),
    path("accounts/tokens/", accounts.api_tokens, name="api-tokens"),
    path("accounts/tokens/<int:pk>/revoke", accounts.api_token_revoke, name="api-token-revoke"),
    path("accounts/login/", security.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("", include("gallery.urls")),
]
