from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gallery import account_views, security
from gallery import views as gallery_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/invites/", account_views.invites, name="invites"),
    path("accounts/settings/", account_views.preferences, name="account-settings"),
    path("accounts/login/", security.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", gallery_views.healthz, name="healthz"),
    path("", include("gallery.urls")),
]
