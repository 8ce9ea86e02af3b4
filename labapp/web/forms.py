from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class SignUpForm(UserCreationForm):
    """Username, optional email, password twice (checked by AUTH_PASSWORD_VALIDATORS)."""

    email = forms.EmailField(required=False, help_text="Optional. Only used to tell you about your account.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
