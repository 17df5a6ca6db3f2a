"""Accounts: sign-up modes, invitations, password change and reset, deactivation."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from gallery import accounts
from gallery.models import Invite

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase-9"


def sign_up(client, username="carol", **extra):
    data = {"username": username, "password1": PASSWORD, "password2": PASSWORD, **extra}
    return client.post(reverse("signup"), data)


def test_closed_signup_refuses_and_creates_nobody(client, settings, django_user_model):
    settings.STUDIO_SIGNUP = "closed"
    assert client.get(reverse("signup")).status_code == 403
    response = sign_up(client)
    assert response.status_code == 403 and b"does not take new sign-ups" in response.content
    assert not django_user_model.objects.exists()


def test_invite_signup_needs_a_valid_unused_code(client, settings, alice, django_user_model):
    settings.STUDIO_SIGNUP = "invite"
    response = sign_up(client, invite="made-up")
    assert "unknown, used or expired" in response.content.decode()
    invite = accounts.create_invite(created_by=alice)
    response = sign_up(client, invite=invite.code)
    assert response.status_code == 302
    invite.refresh_from_db()
    assert invite.used_by.username == "carol" and not invite.is_usable
    client.logout()
    response = sign_up(client, username="dave", invite=invite.code)
    assert "unknown, used or expired" in response.content.decode()
    assert not django_user_model.objects.filter(username="dave").exists()


def test_only_staff_make_invitations(client, alice):
    client.force_login(alice)
    assert client.post(reverse("invites")).status_code == 302  # to the admin login
    assert not Invite.objects.exists()
    alice.is_staff = True
    alice.save()
    response = client.post(reverse("invites"), follow=True)
    code = Invite.objects.get().code
    assert code in response.content.decode()


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "alice-pass-phrase-1",
            "new_password1": "another-long-phrase-7",
            "new_password2": "another-long-phrase-7",
        },
        follow=True,
    )
    assert b"Your password has been changed" in response.content
    alice.refresh_from_db()
    assert alice.check_password("another-long-phrase-7")


def test_password_reset_by_email(client, alice):
    alice.email = "alice@example.com"
    alice.save()
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Set a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"new_password1": "fresh-long-phrase-3", "new_password2": "fresh-long-phrase-3"},
        follow=True,
    )
    assert b"Your new password is set" in response.content
    alice.refresh_from_db()
    assert alice.check_password("fresh-long-phrase-3")


def test_deactivated_person_cannot_sign_in_but_keeps_their_jobs(client, alice):
    from gallery import jobs

    job = jobs.create_job(owner=alice, prompt="kept", model="gpt-image-1")
    alice.is_active = False
    alice.save()
    response = client.post(
        reverse("login"), {"username": "alice", "password": "alice-pass-phrase-1"}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.owner == alice


@pytest.mark.parametrize(
    "lookalike",
    [
        "аlice",  # a Cyrillic а among Latin letters
        "ａｌｉｃｅ",  # fullwidth letters
        "ALICE",  # another case
        "alIce",  # a capital I for the l
    ],
)
def test_a_name_that_looks_like_someone_elses_is_refused(
    client, alice, lookalike, django_user_model
):
    response = sign_up(client, username=lookalike)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert django_user_model.objects.count() == 1


def test_a_name_in_one_other_alphabet_that_looks_like_someone_elses_is_refused(
    client, django_user_model
):
    django_user_model.objects.create_user("ace", password=PASSWORD)
    response = sign_up(client, username="асе")  # Cyrillic а, с, е: one script, same look
    assert "looks like the name of someone already here" in response.content.decode()
    assert django_user_model.objects.count() == 1


def test_a_name_mixing_look_alike_alphabets_is_refused_even_when_nobody_has_it(client):
    response = sign_up(client, username="раypal")  # Cyrillic р and а
    assert "mixes letters from different alphabets" in response.content.decode()


@pytest.mark.parametrize("name", ["carol", "josé", "Алиса", "李小龍", "anna.k@x", "al_ice-2"])
def test_ordinary_names_in_any_alphabet_are_welcome(client, alice, name, django_user_model):
    assert sign_up(client, username=name).status_code == 302
    assert django_user_model.objects.filter(username=name).exists()


def test_skeletons_match_what_looks_alike():
    def alike(a, b):
        return bool(accounts.skeletons(a) & accounts.skeletons(b))

    assert alike("mary", "rnary") and alike("paypal", "paypa1") and alike("lan", "Ian")
    assert not alike("bob", "alice") and not alike("jose", "josé") and not alike("anna", "ann")
