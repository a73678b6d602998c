"""A consent step: its "I agree" POST, and its notice on a page of its own to print or save.

What agreeing does (the credit widget: record the FCRA consent and run one
pre-qualification) is the widget's kind's; this is only the web side of it.
"""

from __future__ import annotations

from resume.errors import BadRequest, StepNotReached
from resume.i18n import gettext
from resume.kinds.base import Agreement
from resume.web.forms import Posted
from resume.web.outcome import Download, Go, Page
from resume.web.visit import Visit


async def agree(visit: Visit, index: int, posted: Posted) -> Go:
    """Hand an "I agree" on step `index` to the widget's kind, then show what it says."""
    proof = posted.form.pop("notice", "")
    if posted.form:
        raise BadRequest(
            gettext("The agreement was sent with fields it doesn't take. Reload the page.")
        )
    state = await visit.state(posted.credential)
    if state is None:
        raise StepNotReached()
    following = await visit.kind.agree(visit.scene, index, state, Agreement(proof, posted.client))
    # The kind's work is committed: the alerts it queued are there for the worker.
    visit.svc.wake_worker()
    fresh = await visit.svc.autosave.state(state.id)
    extra = {"check": "1"} if following.check else {}
    return visit.go(following.step, fresh, **extra)


def notice_page(visit: Visit, *, download: bool) -> Page | Download:
    """The notice as a page to print, or (`download`) as a text file."""
    notice = visit.kind.notice(visit.dealer)
    assert notice is not None  # the route serves only widgets with a notice
    # The shopper's copy is dated, like the page; the version id is for our records (#11).
    if download:
        dated = f" ({notice.dated[:1].lower()}{notice.dated[1:]})" if notice.dated else ""
        parts = [visit.dealer.name, visit.dealer.address, "", f"{notice.title}{dated}", ""]
        if notice.untranslated:
            parts += [gettext("This notice is only available in English."), ""]
        body = "\n".join([*parts, notice.text, ""])
        return Download(body, f"{visit.widget.slug}-notice.txt")
    return Page(
        (f"widget/{visit.widget.slug}-notice.html", "widget/notice.html"),
        {
            "notice_text": notice.text,
            "notice_dated": notice.dated,
            "notice_language": notice.language,
            "notice_note": (
                gettext("This notice is only available in English.") if notice.untranslated else ""
            ),
        },
    )
