"""The payment calculator as a django-formtools wizard: vehicle, numbers, result.

The first step has the 7 fields of resume's "vehicle" step with the same rules (required,
lengths, ranges); the second the 6 fields of its "numbers" step; the third is the page that
would show the estimate, with nothing to fill in. Wizard state lives where formtools'
SessionWizardView keeps it: in the Django session, stored in the database.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from formtools.wizard.views import NamedUrlSessionWizardView, SessionWizardView

DEALER = "Demo Motors"
TITLE = "Estimate your monthly payment"


class VehicleForm(forms.Form):
    condition = forms.ChoiceField(
        label="New or used",
        choices=[("new", "New"), ("used", "Used or certified pre-owned")],
        widget=forms.RadioSelect,
    )
    year = forms.IntegerField(label="Year", min_value=1981, max_value=2027)
    make = forms.CharField(label="Make", help_text="For example Toyota", max_length=40)
    model = forms.CharField(label="Model", help_text="For example RAV4", max_length=60)
    trim = forms.CharField(label="Trim", help_text="For example XLE", max_length=60, required=False)
    stock_number = forms.CharField(
        label="Stock number", help_text="It's on the vehicle page", max_length=30, required=False
    )
    price = forms.DecimalField(
        label="Price",
        help_text="The selling price before taxes and fees, in dollars",
        min_value=500,
        max_value=1_000_000,
        max_digits=9,
        decimal_places=2,
    )


def money(label: str, hint: str, top: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=hint,
        required=False,
        min_value=0,
        max_value=top,
        max_digits=9,
        decimal_places=2,
    )


class NumbersForm(forms.Form):
    plan = forms.ChoiceField(
        label="Finance or lease",
        choices=[
            ("finance", "Finance (you own the car at the end)"),
            ("lease", "Lease (lower payments, return or buy it at the end)"),
        ],
        widget=forms.RadioSelect,
    )
    down_payment = money("Down payment", "Cash you'll put down; 0 is fine", 1_000_000)
    trade_value = money("Trade-in value", "Leave empty if you have no trade-in", 500_000)
    trade_payoff = money("Still owed on the trade-in", "The loan payoff, if any", 500_000)
    credit = forms.ChoiceField(
        label="Your credit",
        help_text="Your best guess; we don't check it here",
        choices=[
            ("excellent", "Excellent (720 or higher)"),
            ("good", "Good (680 to 719)"),
            ("fair", "Fair (620 to 679)"),
            ("rebuilding", "Rebuilding (below 620)"),
        ],
        widget=forms.RadioSelect,
    )
    term = forms.IntegerField(
        label="Term in months",
        help_text=f"{DEALER} offers 24, 36, 39, 48, 60, 72 or 84 months; leases run 24 to 48",
        min_value=12,
        max_value=96,
    )


class ResultForm(forms.Form):
    """The last step: the estimate page, nothing to fill in; posting it finishes the wizard."""


STEPS = [VehicleForm, NumbersForm, ResultForm]
STEP_TITLES = ["The vehicle", "Your numbers", "Your estimated payment"]
STEP_INTROS = [
    "Tell us which car you're looking at. A stock number is enough if you have one.",
    "Rough figures are fine. You can change them on the next page.",
    "This is a rough estimate. The dealer will confirm the numbers with you.",
]


class WizardPages:
    """What both wizard classes share: the template, the page context, the done page."""

    template_name = "peer/wizard.html"

    def get_context_data(self, form, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(form=form, **kwargs)  # type: ignore[misc]
        index = self.steps.index  # type: ignore[attr-defined]
        context.update(
            dealer=DEALER,
            title=TITLE,
            step_title=STEP_TITLES[index],
            step_intro=STEP_INTROS[index],
            progress=[
                {
                    "name": str(i),
                    "title": t,
                    "number": i + 1,
                    "done": i < index,
                    "current": i == index,
                }
                for i, t in enumerate(STEP_TITLES)
            ],
        )
        return context

    def done(self, form_list, **kwargs):  # type: ignore[no-untyped-def]
        return render(self.request, "peer/done.html", {"dealer": DEALER, "title": TITLE})  # type: ignore[attr-defined]


class PaymentWizard(WizardPages, SessionWizardView):
    form_list = STEPS


class NamedPaymentWizard(WizardPages, NamedUrlSessionWizardView):
    form_list = STEPS


named_wizard = NamedPaymentWizard.as_view(url_name="named_step", done_step_name="done")
