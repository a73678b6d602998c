"""Write docs/followup-samples.md from the follow-up copy in widgets/*.toml.

Touch 1 of every step that has follow-up copy is rendered in full, as the plain-text part of
the email resume.mail.Composer builds with the real templates; below it, the subjects of all
its touches. The shopper answered every step before the one they left on, so the page shows
what each exit step's email really says (issue #11, item 5: the page had gone stale when the
steps were split so that each fits its frame).

    python scripts/followup_samples.py          # write the page
    python scripts/followup_samples.py --check  # exit 1, saying so, if the page is stale

tests/test_followup_copy.py runs the check.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

from resume.catalog import Catalog
from resume.dealers import Dealer, DealerConfig
from resume.definitions import Step
from resume.demo import DETAILS
from resume.mail import Composer
from resume.queries.drafts import DraftState, Stored
from resume.queries.outbox import Message
from resume.settings import Settings
from resume.tokens import Signer

PAGE = Path(__file__).resolve().parent.parent / "docs" / "followup-samples.md"
BASE_URL = "https://drive.demo-motors.example"
# How the page names each widget, in the order it shows them.
NAMES = {
    "payment": "Payment calculator",
    "trade-in": "Trade-in",
    "credit": "Credit pre-qualification",
}
# The sample shopper's answers, by field name: every step before the exit step is answered,
# and on that step what names the car (a shopper who stopped at the price, say).
ANSWERS = {
    "payment": {
        "condition": "used", "year": "2019", "make": "Honda", "model": "CR-V",
        "price": "24500", "plan": "finance", "credit": "good", "down_payment": "3000",
        "trade_value": "0", "trade_payoff": "0", "term": "60", "email": "sam@example.com",
    },
    "trade-in": {
        "year": "2019", "make": "Honda", "model": "CR-V", "mileage": "48500",
        "grade": "good", "accident": "none", "ownership": "own", "timeline": "this_month",
        "first_name": "Sam", "email": "sam@example.com",
    },
    "credit": {"first_name": "Sam", "email": "sam@example.com", "credit_band": "good"},
}  # fmt: skip
CAR = ("year", "make", "model")
INTRO = """\
# Follow-up samples

What a shopper reads after leaving a widget on each step (issue #4). Touch 1 is shown in
full, as the plain-text part of the email rendered by `resume.mail.Composer` with the real
templates (`templates/email/followup.*`) for Demo Motors and a sample shopper whose car
is a 2019 Honda CR-V, who answered every step before the one they left on (and on that one
named the car); the resume and unsubscribe links are shortened. Below each, the subjects of
touches 1 to 5 (sent 1 hour, 1 day, 3 days, 7 days and 14 days after the shopper left, within
the dealer's sending hours).

`{vehicle}` is the car being priced in the payment widget, the shopper's own car in the
trade-in widget ("car" when none was given yet), and "next car" in the credit widget.
The copy itself is in `widgets/*.toml`; `tests/test_followup_copy.py` checks it, and checks
that this page is what `python scripts/followup_samples.py` writes from it.
"""


def _draft(widget: str, steps: tuple[Step, ...], exit_at: int) -> DraftState:
    answers = ANSWERS[widget]
    values = {
        field.name: Stored(answers[field.name], True, None, step.name)
        for step in steps[: exit_at + 1]
        for field in step.fields
        if field.name in answers and (step is not steps[exit_at] or field.name in CAR)
    }
    return DraftState(
        id="sample", dealer_id=1, widget=widget, version=1, revision=1,
        step=steps[exit_at].name, reached=exit_at, status="active",
        email=answers.get("email"), phone=None, wants_showroom=False, values=values,
    )  # fmt: skip


def _email(composer: Composer, dealer: Dealer, draft: DraftState, touch: int) -> tuple[str, str]:
    """The subject and plain text of one follow-up touch, its links shortened."""
    message = Message(
        id=1, dealer_id=1, draft_id=draft.id, kind="followup",
        context={"exit_step": draft.step, "touch": touch}, to_addr="sam@example.com",
        message_id="<sample@resume.example>", status="pending", attempts=0,
        due_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
    )  # fmt: skip
    email = composer.build(message, dealer, draft)
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    text = re.sub(rf"({re.escape(BASE_URL)}/[ru]/)\S+", "\\1…", body.get_content())
    return str(email["Subject"]), text.strip()


def render() -> str:
    """The page, from the widgets' copy as it is now."""
    catalog = Catalog.load()
    settings = Settings(base_url=BASE_URL, secret_keys=("sample-only-not-a-secret",))
    composer = Composer(settings, Signer(settings.secret_keys), catalog)
    parts = [INTRO]
    for slug, name in NAMES.items():
        parts.append(f"## {name} (`{slug}`)\n")
        every = catalog.widgets[slug].steps
        for step in every:
            if not step.followups:
                continue
            # A step shown only under a dealer's setting is rendered for a dealer who sets it.
            config = DealerConfig(**({step.when: True} if step.when else {}))
            dealer = Dealer(id=1, slug="demo-motors", origins=(), config=config, **DETAILS)
            steps = catalog.for_dealer(slug, dealer).steps
            draft = _draft(slug, steps, [s.name for s in steps].index(step.name))
            when = f" (shown when the dealer sets `{step.when}`)" if step.when else ""
            subject, text = _email(composer, dealer, draft, 1)
            subjects = [
                _email(composer, dealer, draft, n)[0] for n in range(1, len(step.followups) + 1)
            ]
            parts.append(f'### Left on "{step.title}" (`{step.name}`){when}\n')
            parts.append(f"**Subject:** {subject}\n")
            parts.append(f"```text\n{text}\n```\n")
            parts.append("Subjects, touches 1 to 5:\n")
            parts.append("".join(f"{n}. {s}\n" for n, s in enumerate(subjects, 1)))
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    page = render()
    if "--check" in argv:
        if PAGE.read_text() != page:
            print(f"{PAGE} is stale: run python scripts/followup_samples.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
