"""The lead list's filters for the figures of the numbers pages (issue #10): the leads behind
one of the funnel's figures (`cohort_filter`), and behind one of the team page's (one rep, a
number of attempts, a stage reached, answered within so many business minutes, not yet
answered: `team_filters`). Each is checked as the page that links to it checks its own
address: a damaged one is a 400, another dealership a 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from resume.dealers import Dealer
from resume.errors import BadRequest, NotFound
from resume.queries.funnel import STAGES
from resume.queries.lead_list import Cohort
from resume.web.services import Services

POINTS = frozenset({"started", "captured", "reached", "exited", "resumed", "completed", *STAGES})
# The parameters that name a funnel's figure.
COHORT_KEYS = frozenset({"began", "from", "to", "source", "point", "step", "field"})
# The team page's: attempts from 0 to ATTEMPTS_TOP, the top one meaning that many or more.
TEAM_KEYS = frozenset({"rep", "attempts", "reached", "response", "attempted"})
ATTEMPTS_TOP = 5
RESPONSE_LONGEST = 60 * 24 * 30


def _number(value: str) -> bool:
    """Plain ASCII digits, a dozen at most: int() also takes other scripts' digits."""
    return value.isascii() and value.isdigit() and len(value) <= 12


def day(value: str, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"The {what} day should look like 2026-12-01.") from None


def chosen(query: Mapping[str, str], everyone: Sequence[Dealer]) -> tuple[Dealer, ...]:
    """The dealerships a page is narrowed to (`dealers=a,b`), each one the account's own;
    none chosen: all of them. Any other slug is a 404, as another dealership's id is."""
    asked = [s for s in query.get("dealers", "").split(",") if s]
    slugs = {d.slug: d for d in everyone}
    if len(asked) > len(slugs) or any(s not in slugs for s in asked):
        raise NotFound("There is no such dealership here.")
    return tuple(slugs[s] for s in dict.fromkeys(asked))


def cohort_filter(
    svc: Services, query: Mapping[str, str], dealers: Sequence[Dealer]
) -> Cohort | None:
    """The funnel figure a lead list's address names (`began=WIDGET&from=&to=&point=...`),
    checked as the funnel checks its own page; None if it names none."""
    widget_slug = query.get("began", "")
    if not widget_slug:
        return None
    if widget_slug not in svc.catalog.widgets:
        raise BadRequest("The list can't be filtered by that form.")
    widget = svc.catalog.widgets[widget_slug]
    first, last = day(query.get("from", ""), "first"), day(query.get("to", ""), "last")
    if first is None or last is None or first > last:
        raise BadRequest("The funnel's range on this list is damaged: go back to the funnel.")
    point = query.get("point", "started")
    if point not in POINTS:
        raise BadRequest("The list can't be filtered by that point of the funnel.")
    step, field = query.get("step", ""), query.get("field", "")
    names = {s.name for s in widget.steps}
    if point in {"reached", "exited"} and step not in names:
        raise BadRequest("The list can't be filtered by that step.")
    if field and (point != "exited" or (field != "-" and field not in widget.all_fields())):
        raise BadRequest("The list can't be filtered by that field.")
    source = query.get("source")
    if source is not None and len(source) > 64:
        raise BadRequest("That source is not one the funnel knows.")
    reached: list[tuple[int, int]] = []
    if point == "reached":
        for dealer in dealers:
            shown = svc.catalog.for_dealer(widget_slug, dealer).steps_for(dealer.config.flags())
            reached += [(dealer.id, i) for i, s in enumerate(shown) if s.name == step]
    return Cohort(
        widget=widget_slug,
        first=first.isoformat(),
        last=last.isoformat(),
        source=source,
        point=point,
        reached=tuple(reached),
        step=step if point in {"reached", "exited"} else "",
        field=field,
    )


def cohort_words(svc: Services, cohort: Cohort) -> str:
    """The funnel figure a list shows the leads of, in words."""
    widget = svc.catalog.widgets[cohort.widget]
    titles = {s.name: s.title for s in widget.steps}
    words = f"{widget.title} begun {cohort.first} to {cohort.last}"
    if cohort.source is not None:
        words += f", from {cohort.source}"
    point = {
        "started": "",
        "captured": "",
        "reached": f", reached {titles.get(cohort.step, cohort.step)}",
        "exited": f", first left at {titles.get(cohort.step, cohort.step)}",
        "resumed": ", came back by a link",
        "completed": ", completed",
        "contacted": ", contacted",
        "appointment": ", appointment set",
        "shown": ", shown",
        "sold": ", sold",
    }[cohort.point]
    if cohort.field == "-":
        point += " (no field)"
    elif cohort.field:
        fields = widget.all_fields()
        point += f" ({fields[cohort.field].label if cohort.field in fields else cohort.field})"
    return "From the funnel: " + words + point


def team_filters(query: Mapping[str, str], reps: Sequence[int]) -> dict[str, Any]:
    """The team page's figure a lead list's address names, as `Filter` fields; `reps` are
    the staff ids the account may pick (another's is a 404, as another lead is)."""
    found: dict[str, Any] = {}
    if rep := query.get("rep"):
        if not _number(rep) or int(rep) not in reps:
            raise NotFound("There is no such person on this team.")
        found["owner_id"] = int(rep)
    if (attempts := query.get("attempts")) is not None:
        if not _number(attempts) or int(attempts) > ATTEMPTS_TOP:
            raise BadRequest(f"Attempts should be a number from 0 to {ATTEMPTS_TOP}.")
        found["attempts"] = int(attempts)
        found["attempts_or_more"] = int(attempts) == ATTEMPTS_TOP
    if reached := query.get("reached"):
        if reached not in STAGES:
            raise BadRequest("The list can't be filtered by that stage.")
        found["reached"] = reached
    if response := query.get("response"):
        if not _number(response) or not 0 < int(response) <= RESPONSE_LONGEST:
            raise BadRequest("The response time should be a number of minutes.")
        found["answered_within"] = int(response)
    if attempted := query.get("attempted"):
        if attempted != "0":
            raise BadRequest("The list can't be filtered that way.")
        found["unanswered"] = True
    return found


def team_words(query: Mapping[str, str], names: Mapping[int, str]) -> list[tuple[str, str]]:
    """The team page's filters in words, each with its parameter (to remove it)."""
    words = []
    if rep := query.get("rep"):
        words.append((f"Owner: {names.get(int(rep), 'someone')}", "rep"))
    if (attempts := query.get("attempts")) is not None:
        more = " or more" if int(attempts) == ATTEMPTS_TOP else ""
        words.append((f"{attempts}{more} attempts", "attempts"))
    if reached := query.get("reached"):
        words.append((f"Reached: {reached}", "reached"))
    if response := query.get("response"):
        words.append((f"Answered within {response} business minutes", "response"))
    if query.get("attempted"):
        words.append(("Not answered yet", "attempted"))
    return words
