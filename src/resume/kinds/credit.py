"""The soft-credit pre-qualification: the FCRA notice of its consent step, its one
pre-qualification, and what it may tell staff (nothing sensitive).

"I agree" is accepted only with proof that the page showed the notice (a signed hash of its
text), is recorded with that text, and claims the draft's single pre-qualification in the
same transaction; the provider is asked after that commit, outside any transaction. The
provider itself, and the math of the built-in one, are resume.calc.prequal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from resume import consent, i18n, outbox
from resume.calc.prequal import Applicant, Prequal, provider_for
from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.errors import BadRequest, Revoked, StepNotReached, TokenExpired, TokenInvalid
from resume.fields import clean
from resume.i18n import _, lazy
from resume.kinds.base import Agreement, Carried, Facts, Kind, Next, Notice, Scene, name_lines
from resume.queries import prequals as prequals_q
from resume.queries.drafts import DraftState
from resume.tokens import NoticeShown

log = logging.getLogger("resume.kinds.credit")

# The longest a provider may take; a bureau that answers later counts as a failure.
PROVIDER_SECONDS = 30.0
# A pre-qualification still "running" after this was cut off (a process stopped mid-way).
STALLED = dt.timedelta(minutes=5)


class Credit(Kind):
    slug = "credit"
    reads = frozenset(
        {"credit_band", "monthly_income", "housing_payment", "employment", "years_at_job"}
        | {"years_at_address"}
    )
    moments = {
        "prequalified": "completed a soft-credit pre-qualification",
        "prequal_failed": "agreed to a soft-credit pre-qualification we could not complete; "
        "they were told someone would contact them",
    }
    topic = lazy("financing")

    def notice(self, dealer: Dealer) -> Notice:
        credit = dealer.config.credit
        # In the shopper's language where the dealer's notice has one (issue #11, item 6).
        shown = credit.notice_in(i18n.current())
        return Notice(
            text=shown.text.replace("{dealer}", dealer.name),
            version=shown.version,
            title=i18n.gettext("Written instructions for a soft credit inquiry"),
            # Shoppers see a date, never "fcra-2026-11" (issue #11, item 4).
            dated=credit.notice_label(),
            language=shown.language,
            untranslated=shown.untranslated,
        )

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        if step.kind == "consent":
            return self._consent_context(scene, draft)
        if step.kind == "result":
            status, result = await _prequal(scene, draft)
            return {"prequal_status": status, "prequal": result}
        return {}

    def _consent_context(self, scene: Scene, draft: DraftState | None) -> dict[str, Any]:
        """The notice and the proof that it was shown."""
        notice = self.notice(scene.dealer)
        shown = (
            NoticeShown(draft.id, consent.text_hash(notice.text), draft.version) if draft else None
        )
        return {
            "notice_text": notice.text,
            "notice_dated": notice.dated,
            "notice_language": notice.language,
            "notice_note": (
                i18n.gettext("This notice is only available in English.")
                if notice.untranslated
                else ""
            ),
            "notice_token": scene.signer.sign_notice(shown) if shown else "",
            "notice_url": f"/embed/{scene.dealer.slug}/{scene.widget.slug}/notice",
        }

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        # Staff mail says what happened and where to look, never what the shopper told us.
        return Facts(
            vehicle=_("next car"),
            subject="pre-qualification",
            lines=(
                *name_lines(draft.values),
                (
                    "Pre-qualification",
                    "see the dashboard; personal details are not sent by email",
                ),
            ),
        )

    async def carry(self, scene: Scene, draft: DraftState) -> Carried | None:
        """The credit band and the estimate's term, when there is an estimate."""
        _status, prequal = await _prequal(scene, draft)
        if prequal is None or prequal.outcome != "estimate":
            return None
        typed = {}
        band = draft.values.get("credit_band")
        if band is not None and band.valid:
            # The payment widget asks for the same self-rated band and treats it as an ordinary
            # answer: carried, it is one (it reaches no email and no lead).
            typed["credit"] = band.value
        if prequal.term_months in scene.dealer.config.finance.offered_terms():
            typed["term"] = str(prequal.term_months)
        return Carried("payment", typed)

    async def agree(
        self, scene: Scene, index: int, draft: DraftState, agreement: Agreement
    ) -> Next:
        """Record the consent and run the draft's pre-qualification, once."""
        if index > draft.reached:
            raise StepNotReached()
        hours = scene.settings.form_token_hours
        try:
            shown = scene.signer.verify_notice(agreement.proof, max_age=hours * 3600)
        except (TokenInvalid, TokenExpired):
            raise BadRequest(
                _(
                    'We can only accept "I agree" from the page that shows the notice. Go back, '
                    'read it, and press "I agree" under it.'
                )
            ) from None
        notice = self.notice(scene.dealer)
        if shown.draft_id != draft.id:
            raise BadRequest(
                _("This agreement belongs to another form. Start again from the site.")
            )
        if shown.version != draft.version:
            raise Revoked()
        if shown.text_hash != consent.text_hash(notice.text):
            raise BadRequest(
                _(
                    "The notice changed since the page was shown. Go back, read it again, and "
                    'press "I agree" under the new text.'
                )
            )
        missing = first_missing(scene.steps, draft)
        if missing is not None:
            return Next(missing, check=True)
        now = dt.datetime.now(dt.UTC)
        result_index = index + 1
        claim = await scene.db.run_write(
            lambda conn: prequals_q.claim(
                conn,
                draft_id=draft.id,
                dealer_id=scene.dealer.id,
                widget=scene.widget.slug,
                consent=consent.record(
                    "credit_check",
                    notice.text,
                    agreement.client,
                    version=notice.version,
                    language=notice.language,
                ),
                provider=scene.dealer.config.credit.provider,
                result_step=scene.steps[result_index].name,
                result_index=result_index,
                now=now,
            )
        )
        if claim.claimed:
            await _run(scene, draft)
        else:
            log.info("pre-qualification already %s draft=%s; not run again", claim.status, draft.id)
        return Next(scene.steps[result_index].name)


async def _prequal(scene: Scene, draft: DraftState | None) -> tuple[str | None, Prequal | None]:
    """The draft's pre-qualification status and answer, if it has one."""
    if draft is None:
        return None, None
    async with scene.db.read() as conn:
        found = await prequals_q.load(conn, draft.id, ring=scene.ring)
    status, result, started = found if found else (None, None, None)
    if status == "running" and started and dt.datetime.now(dt.UTC) - started > STALLED:
        status = "failed"  # cut off mid-way: say so rather than "refresh" forever
    return status, result


async def _run(scene: Scene, draft: DraftState) -> None:
    """Ask the provider (outside any transaction) and store its answer. Either way the team
    hears at once: a shopper who agreed and got no estimate is promised a call."""
    try:
        applicant = applicant_of(scene.widget, draft)
        provider = provider_for(scene.dealer.config.credit.provider)
        async with asyncio.timeout(PROVIDER_SECONDS):
            result: Prequal | None = await provider.prequalify(
                applicant, scene.dealer.config.finance
            )
    except Exception as exc:
        # Only the kind of failure is logged: a message or a traceback could quote the
        # applicant's answers, and nothing sensitive goes in a log.
        log.error("pre-qualification failed draft=%s error=%s", draft.id, type(exc).__name__)
        result = None
    alerts = outbox.alerts(
        scene.settings,
        scene.dealer,
        draft.id,
        "prequalified" if result is not None else "prequal_failed",
        has_contact=bool(draft.email or draft.phone),
    )
    await scene.db.run_write(
        lambda conn: prequals_q.finish(
            conn,
            draft_id=draft.id,
            dealer_id=scene.dealer.id,
            widget=scene.widget.slug,
            result=result,
            now=dt.datetime.now(dt.UTC),
            alerts=alerts,
            ring=scene.ring,
        )
    )


def applicant_of(widget: Widget, draft: DraftState) -> Applicant:
    fields = widget.all_fields()

    def value(name: str) -> Any:
        stored = draft.values.get(name)
        return clean(fields[name], stored.value if stored else "").value

    def years(name: str) -> Decimal | None:
        found = value(name)
        return Decimal(found) if found is not None else None

    return Applicant(
        credit_band=str(value("credit_band")),
        monthly_income=value("monthly_income"),
        housing_payment=value("housing_payment") or Decimal(0),
        employment=str(value("employment")),
        years_at_job=years("years_at_job"),
        years_at_address=years("years_at_address"),
    )


def first_missing(steps: tuple[Step, ...], draft: DraftState) -> str | None:
    """The first step before the consent with an answer missing or wrong, or None."""
    for step in steps:
        if step.kind == "consent":
            return None
        for field in step.fields:
            stored = draft.values.get(field.name)
            if not clean(field, stored.value if stored else "").valid:
                return step.name
    return None


KIND = Credit()
