"""Forms for Admin > Team and for accepting an invitation."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django import forms
from django.contrib.auth import get_user_model

from .models import Membership

Role = Membership.Role


def grantable_roles(by: Membership) -> list[tuple[str, str]]:
    """The roles `by` may give: admins cannot make owners (sous.orgs.services.team)."""
    return [
        (value, label)
        for value, label in Role.choices
        if by.role == Role.OWNER or value != Role.OWNER
    ]


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", initial=Role.MEMBER)

    def __init__(self, *args, by: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(by)
        self.fields["email"].widget.attrs.update(autocomplete="off", spellcheck="false")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SetPasswordForm(forms.Form):
    """A new account's password, checked by allauth (and so by AUTH_PASSWORD_VALIDATORS)."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, request, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.email = email

    def clean_password1(self) -> str:
        password = self.cleaned_data["password1"]
        # An unsaved user, so the similarity validator compares the password with the email.
        user = get_user_model()(username=self.email, email=self.email)
        return get_adapter(self.request).clean_password(password, user=user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned
