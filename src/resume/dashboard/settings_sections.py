"""The sections of a dealership's settings pages and the boxes in each (issue #13, item 1),
named by where each value lives: `dealer.name` is a column of the dealer's row,
`finance.apr_new.good` a key inside its stored settings."""

from __future__ import annotations

from collections.abc import Mapping

from resume.dashboard.settings_form import Entry, Section
from resume.dealers import BANDS, OPEN_STATUSES, PROVIDERS
from resume.leads import STATUSES

_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_BAND_NAMES = {"excellent": "Excellent", "good": "Good", "fair": "Fair", "rebuilding": "Rebuilding"}
_HOURS_HINT = "Two hours of the day on a 24-hour clock, like 9-20; leave empty if closed."


def _bands(table: str, what: str, hint: str) -> tuple[Entry, ...]:
    return tuple(
        Entry(
            path=f"finance.{table}.{band}",
            label=f"{what}, {_BAND_NAMES[band].lower()} credit",
            kind="decimal",
            hint=hint,
            width="narrow",
        )
        for band in BANDS
    )


SECTIONS: Mapping[str, Section] = {
    s.slug: s
    for s in (
        Section(
            "details",
            "Dealership details",
            "What shoppers and your team see: in the widgets, the emails and the ADF leads.",
            (
                Entry(path="dealer.name", label="Dealership name"),
                Entry(
                    path="dealer.lead_email",
                    label="Lead inbox",
                    kind="email",
                    hint="Alerts and new leads go here.",
                ),
                Entry(path="dealer.address", label="Postal address", kind="textarea"),
                Entry(path="dealer.phone", label="Phone", width="medium"),
                Entry(
                    path="dealer.timezone",
                    label="Timezone",
                    hint="As the tz database names it, like America/Chicago.",
                    width="medium",
                ),
                Entry(
                    path="hours",
                    label="Opening hours, as shoppers read them",
                    hint="Shown in the widgets and emails, like Mon-Sat 9am-8pm, Sun 11am-5pm.",
                ),
                Entry(
                    path="languages",
                    label="Languages of the widgets",
                    kind="languages",
                    choices=(
                        (
                            "en,es",
                            "English and Spanish; English for a browser that asks for neither",
                        ),
                        (
                            "es,en",
                            "Spanish and English; Spanish for a browser that asks for neither",
                        ),
                        ("en", "English only"),
                        ("es", "Spanish only"),
                    ),
                    hint="A shopper sees the language their browser asks for, or the one "
                    "the page passes as lang=es; the widget has a button to switch.",
                ),
                *(
                    Entry(
                        path=f"business_hours.{day}",
                        label=f"Sales team's hours on {name}",
                        kind="hours",
                        hint=_HOURS_HINT if day == "mon" else "",
                        width="narrow",
                    )
                    for day, name in _DAY_NAMES.items()
                ),
            ),
        ),
        Section(
            "finance",
            "Finance defaults",
            "What the payment widget computes with. Press “Show a sample payment” to see what "
            "a shopper would see with the values in the form, before you save them.",
            (
                Entry(
                    path="finance.tax_rate", label="Sales tax, %", kind="decimal", width="narrow"
                ),
                Entry(path="finance.doc_fee", label="Doc fee, $", kind="decimal", width="narrow"),
                Entry(
                    path="finance.trade_reduces_tax",
                    label="The trade-in's value is taken off the taxed amount",
                    kind="yesno",
                    hint="True in most US states; not in California, for one.",
                ),
                Entry(
                    path="finance.terms",
                    label="Finance terms, months",
                    kind="numbers",
                    hint="Separated by commas, like 36, 48, 60, 72, 84.",
                ),
                *_bands("apr_new", "New-car APR %", ""),
                *_bands("apr_used", "Used-car APR %", ""),
                Entry(
                    path="finance.residuals",
                    label="Lease residuals, % of the price by term",
                    kind="pairs",
                    hint="Term: percent, separated by commas, like 24: 64, 36: 58, 48: 50.",
                ),
                *_bands("money_factors", "Lease money factor", "Like 0.00250."),
            ),
        ),
        Section(
            "followup",
            "Follow-up",
            "When a shopper who gave an email and ticked the box has left, and when the "
            "follow-up emails go out. A change applies to the emails scheduled after it.",
            (
                Entry(
                    path="idle_minutes",
                    label="A shopper has left after, minutes",
                    kind="number",
                    hint="Minutes without a save, like 30.",
                    width="narrow",
                ),
                Entry(
                    path="cadence",
                    label="Follow-up emails go out after",
                    kind="delays",
                    hint="Delays after leaving, separated by commas: 45m is 45 minutes, 2h two "
                    "hours, 3d three days. Like 1h, 1d, 3d, 7d, 14d.",
                ),
                Entry(
                    path="sending_hours",
                    label="Emails are sent between",
                    kind="hours",
                    hint="Hours of the day in the dealership's timezone, like 8-20.",
                    width="narrow",
                ),
                Entry(
                    path="response_minutes",
                    label="The team's response target, business minutes",
                    kind="number",
                    hint="From capture to the first call, text or email, like 15.",
                    width="narrow",
                ),
                Entry(
                    path="resume_link_days",
                    label="A resume link works for, days",
                    kind="number",
                    width="narrow",
                ),
                Entry(
                    path="contact_before_result",
                    label="Ask for contact details before showing the payment",
                    kind="yesno",
                    hint="No shows the payment first, then asks where to send it.",
                ),
            ),
        ),
        Section(
            "limits",
            "Follow-through limits",
            "How long a lead may stay in each status before the team page lists it as stuck, "
            "in hours on the calendar: a day is 24, a week 168 (issue #10).",
            tuple(
                Entry(
                    path=f"status_limits.{status}",
                    label=f"Stuck in {STATUSES[status]} after, hours",
                    kind="number",
                    hint="Between 1 and 8760 (a year)." if status == "new" else "",
                    width="narrow",
                )
                for status in OPEN_STATUSES
            ),
        ),
        Section(
            "consent",
            "Consent",
            "The words beside the follow-up box. Shoppers are emailed only after ticking it. "
            "Each consent keeps the words the shopper saw, so new words become a new version "
            "and the old ones stay below with the consents given to them.",
            (
                Entry(
                    path="followup_mode",
                    label="Follow-up emails",
                    kind="choice",
                    choices=(
                        ("ask", "Offer them: a box to tick, never ticked for the shopper"),
                        ("off", "Never: no box and no follow-up; asked-for links, alerts go"),
                    ),
                ),
                Entry(
                    path="followup_consent",
                    label="Words beside the follow-up box",
                    kind="textarea",
                    hint="Leave empty for the widget's own words.",
                ),
                Entry(
                    path="followup_consent_es",
                    label="The same words in Spanish",
                    kind="textarea",
                    hint="Spanish-speaking shoppers see these. Leave empty: they see your "
                    "words above, or the widget's own Spanish if those are empty too.",
                ),
            ),
        ),
        Section(
            "credit",
            "Credit and trade-in",
            "The soft-credit widget's written-instructions notice and who pre-qualifies; how "
            "a trade-in is valued.",
            (
                Entry(
                    path="credit.notice",
                    label="Written-instructions notice (FCRA)",
                    kind="textarea",
                    hint="{dealer} is replaced by the dealership's name.",
                ),
                Entry(
                    path="credit.notice_es",
                    label="The notice in Spanish",
                    kind="textarea",
                    hint="Needed only for your own words: our notice has its Spanish. "
                    "Without it, Spanish-speaking shoppers read the notice above, told it is "
                    "only in English. Change the version with the words.",
                ),
                Entry(
                    path="credit.notice_version",
                    label="Notice version",
                    hint="Change it with the words, like fcra-2026-12: each “I agree” stores it.",
                    width="medium",
                ),
                Entry(
                    path="credit.notice_date",
                    label="Notice date",
                    kind="date",
                    hint="When these words took effect, like 2026-11-01. Shoppers see "
                    "“Version of November 2026”, never the version; leave empty to read the "
                    "month from a version that ends in it, like fcra-2026-11.",
                    width="medium",
                ),
                Entry(
                    path="credit.provider",
                    label="Pre-qualification provider",
                    kind="choice",
                    choices=tuple((p, "Built in (no bureau call)") for p in PROVIDERS),
                ),
                Entry(
                    path="trade_in.mode",
                    label="Trade-in offers",
                    kind="choice",
                    choices=(
                        ("appraiser", "An appraiser sends an offer"),
                        ("rules", "An instant range from your rules"),
                    ),
                ),
                Entry(
                    path="trade_in.offer_hours",
                    label="Appraiser's offer promised within, business hours",
                    kind="number",
                    width="narrow",
                ),
                Entry(
                    path="trade_in.rules.values_by_age",
                    label="Instant range: starting value by age",
                    kind="pairs",
                    hint="Age in years: dollars, separated by commas, like 0: 32000, 3: 24000, "
                    "8: 11000. Needed for an instant range.",
                ),
            ),
        ),
        Section(
            "retention",
            "Retention",
            "Drafts untouched this long are deleted with their answers, events and consents, "
            "once an hour.",
            (
                Entry(
                    path="retention_days",
                    label="Keep drafts for, days",
                    kind="number",
                    width="narrow",
                ),
            ),
        ),
        Section(
            "crm",
            "CRM",
            "Leads reach your CRM as ADF/XML, emailed to its lead-intake address.",
            (
                Entry(
                    path="crm_email",
                    label="CRM lead-intake address",
                    kind="email",
                    hint="Leave empty to send no ADF; alerts still reach the lead inbox.",
                ),
                Entry(
                    path="adf_as",
                    label="ADF delivery",
                    kind="choice",
                    choices=(
                        ("attachment", "Attached as application/x-adf+xml"),
                        ("body", "As the email's body"),
                    ),
                ),
            ),
        ),
        Section(
            "branding",
            "Branding",
            "The widgets' logo, colours and font. Text must stay readable: 4.5 to 1 contrast "
            "at least; the focus ring is the buttons' colour, so it stands out as well.",
            (
                Entry(
                    path="theme.logo",
                    label="Logo",
                    kind="url",
                    hint="The address of an image on your website (one of your embed origins), "
                    "like https://www.example-motors.com/logo.png. Shown at most 240 by 48 "
                    "pixels; leave empty for your name in text.",
                ),
                Entry(path="theme.accent", label="Buttons and links", kind="colour"),
                Entry(path="theme.accent_text", label="Text on buttons", kind="colour"),
                Entry(path="theme.text", label="Text", kind="colour"),
                Entry(path="theme.background", label="Background", kind="colour"),
                Entry(
                    path="theme.font",
                    label="Font",
                    hint="Font names separated by commas, the fallbacks last, like Inter, "
                    "Arial, sans-serif. The font must be installed on the shopper's device; "
                    "leave empty for the device's own.",
                ),
            ),
        ),
    )
}
