from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from gallery import accounts
from gallery.forms import ApiTokenForm, PreferencesForm
from gallery.gateway import tokens
from gallery.models import ApiToken, Invite


class SignupForm(UserCreationForm):
    invite = forms.CharField(
        label="Invitation code", required=False, help_text="The code someone on the team gave you."
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts.signup_mode() != "invite":
            del self.fields["invite"]

    def clean_username(self) -> str:
        # Django's: None (with the error added) for a name taken in another case.
        username = super().clean_username()
        problem = accounts.name_problem(username) if username else None
        if problem:
            raise forms.ValidationError(problem, code="confusable")
        return username

    def clean_invite(self) -> str:
        code = self.cleaned_data["invite"]
        if accounts.usable_invite(code) is None:
            raise forms.ValidationError("This invitation code is unknown, used or expired.")
        return code


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("gallery:create")
    mode = accounts.signup_mode()
    if mode == "closed":
        return render(request, "registration/signup_closed.html", status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            if mode == "invite" and not accounts.redeem_invite(
                code=form.cleaned_data["invite"], user=user
            ):
                transaction.set_rollback(True)
                form.add_error("invite", "This invitation code was just used by someone else.")
                return render(request, "registration/signup.html", {"form": form})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("gallery:create")
    return render(request, "registration/signup.html", {"form": form})


@staff_member_required
@require_http_methods(["GET", "POST"])
def invites(request):
    if request.method == "POST":
        invite = accounts.create_invite(created_by=request.user)
        messages.success(request, f"New invitation code: {invite.code}")
        return redirect("invites")
    return render(
        request,
        "registration/invites.html",
        {"invites": Invite.objects.select_related("created_by", "used_by")[:100]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """A person's own settings: who sees their new images by default."""
    if request.method == "GET":
        initial = {"default_visibility": accounts.default_visibility(request.user)}
        return render(
            request, "registration/settings.html", {"form": PreferencesForm(initial=initial)}
        )
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return render(request, "registration/settings.html", {"form": form}, status=400)
    accounts.set_default_visibility(
        user=request.user, visibility=form.cleaned_data["default_visibility"]
    )
    return render(request, "registration/settings.html", {"form": form, "saved": True})


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """A person's personal API tokens for the OpenAI-compatible endpoint: make one (shown
    once), see when each was last used, revoke. Staff see everyone's."""
    form, made = ApiTokenForm(), None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            row, secret = tokens.create_token(owner=request.user, **form.cleaned_data)
            made = {"row": row, "secret": secret}
            form = ApiTokenForm()
    shown = ApiToken.objects.select_related("owner")
    if not request.user.is_staff:
        shown = shown.filter(owner=request.user)
    context = {
        "form": form,
        "made": made,
        "tokens": shown[:200],
        "base_url": request.build_absolute_uri("/v1"),
    }
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "registration/tokens.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def api_token_revoke(request, pk: int):
    shown = ApiToken.objects.all() if request.user.is_staff else request.user.api_tokens.all()
    token = get_object_or_404(shown, pk=pk)
    tokens.revoke(token)
    messages.success(request, f"Revoked {token.name}: it no longer works.")
    return redirect("api-tokens")
