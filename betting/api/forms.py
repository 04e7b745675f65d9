from __future__ import annotations

from django import forms

from betting.api.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="What the token is for (a script, a laptop).")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
