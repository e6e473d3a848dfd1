from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest

from linli.accounts.models import User

# Residents sign in with their phone and an SMS code, not the staff password page (settings.LOGIN_URL).
resident_login_required = login_required(login_url="accounts:phone_login")


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user
