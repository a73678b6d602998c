"""Follow-up after an exit: detection, the cadence in sending hours, stop rules, on a moved
clock (nothing sleeps), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import (
    HALFWAY,
    NUMBERS,
    VEHICLE,
    Mailbox,
    Shopper,
    Store,
    deliver,
    saved_for_later,
)

from resume.cadence import touch_times, within_hours
from resume.dealers import DealerConfig

CHICAGO = ZoneInfo("America/Chicago")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


def test_touches_wait_for_the_sending_hours() -> None:
    exit_at = local(2026, 11, 23, 19, 30)  # 7:30 pm in Chicago
    times = [t.astimezone(CHICAGO) for t in touch_times(exit_at, DealerConfig(), "America/Chicago")]
    assert times[0] == local(2026, 11, 24, 8, 0)  # +1 h is 8:30 pm: next morning at 8
    assert times[1] == local(2026, 11, 24, 19, 30)  # +1 day, inside the window
    assert times[2] == local(2026, 11, 26, 19, 30)
    assert [t.hour for t in times[3:]] == [19, 19]


def test_early_morning_waits_for_opening_and_the_window_follows_the_dealers_clock() -> None:
    assert within_hours(local(2026, 11, 24, 6, 15), (8, 20), "America/Chicago") == local(
        2026, 11, 24, 8, 0
    )
    # Across the end of daylight saving time, 8 am is still 8 am local.
    due = local(2026, 10, 31, 21, 0)
    assert within_hours(due, (8, 20), "America/Chicago") == local(2026, 11, 1, 8, 0)


def leave(client: Any, *, consent: bool = True, email: str = "pat@example.com") -> str:
    """A shopper who types a wrong term on the numbers step, saves for later and leaves."""
    return saved_for_later(Shopper(client), email, consent=consent, numbers=HALFWAY)


def later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def followups(store: Store, draft_id: str) -> list[dict[str, Any]]:
    return store.rows(
        "SELECT * FROM outbox WHERE draft_id = :d AND kind = 'followup' ORDER BY id", d=draft_id
    )


def test_an_exit_is_found_after_the_idle_time_with_its_step_and_field(
    client: Any, settings: Any, store: Store
) -> None:
    draft_id = leave(client)
    deliver(settings, now=later(29))
    assert followups(store, draft_id) == []
    deliver(settings, now=later(31))
    assert ("exited", "numbers", "term") in store.events(draft_id)
    touches = followups(store, draft_id)
    assert len(touches) == 5 and {t["status"] for t in touches} == {"pending"}
    assert [t["dedupe_key"] for t in touches] == [f"followup:{draft_id}:1:{n}" for n in range(1, 6)]
    draft = store.one("SELECT exits, exit_at FROM drafts WHERE id = :d", d=draft_id)
    assert draft["exits"] == 1 and draft["exit_at"] is not None


def test_no_consent_no_follow_up(client: Any, settings: Any, store: Store) -> None:
    draft_id = leave(client, consent=False)
    deliver(settings, now=later(120))
    assert followups(store, draft_id) == []
    # The exit is still recorded: the sales team sees where every partial lead left (#9).
    assert ("exited", "numbers", "term") in store.events(draft_id)


def test_finding_exits_twice_queues_nothing_twice(client: Any, settings: Any, store: Store) -> None:
    draft_id = leave(client)
    deliver(settings, now=later(31))
    deliver(settings, now=later(45))
    assert len(followups(store, draft_id)) == 5


def test_coming_back_stops_the_queued_touches_and_a_new_exit_rearms(
    client: Any, settings: Any, store: Store
) -> None:
    draft_id = leave(client)
    deliver(settings, now=later(31))
    # The shopper is back: "Keep going now" on the page they left open, then a save.
    back = Shopper(client)
    back.page = client.get(f"/embed/demo-motors/payment/numbers?d={store.credential(draft_id)}")
    back.fill("numbers", action="back", **NUMBERS)
    assert {t["status"] for t in followups(store, draft_id)} == {"stopped"}
    assert store.one("SELECT exit_at FROM drafts WHERE id = :d", d=draft_id)["exit_at"] is None
    deliver(settings, now=later(70))
    touches = followups(store, draft_id)
    assert len(touches) == 10
    assert touches[-1]["dedupe_key"] == f"followup:{draft_id}:2:5"


def test_a_touch_goes_out_with_copy_for_the_exit_step(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    draft_id = leave(client)
    deliver(settings, mailbox.url, now=later(31))
    mailbox.messages.clear()  # the resume link itself
    first = followups(store, draft_id)[0]
    due = dt.datetime.fromisoformat(str(first["due_at"])).replace(tzinfo=dt.UTC)
    deliver(settings, mailbox.url, now=due + dt.timedelta(seconds=1))
    [message] = mailbox.messages
    assert message["Subject"] == "Your 2024 Toyota RAV4 XLE payment is one step away"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "You stopped on your numbers" in text and "/r/" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == "leads@demo-motors.example"
    sent = store.one("SELECT * FROM outbox WHERE id = :i", i=first["id"])
    assert sent["status"] == "sent" and "default-2026-11" in str(sent["context"])


def test_a_touch_whose_shopper_came_back_is_stopped_at_send(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    draft_id = leave(client)
    deliver(settings, mailbox.url, now=later(31))
    mailbox.messages.clear()
    # A save that raced the enqueue: the exit is gone but a touch is still pending.
    store.execute("UPDATE drafts SET exit_at = NULL WHERE id = :d", d=draft_id)
    deliver(settings, mailbox.url, now=later(60 * 24 * 30))
    assert mailbox.messages == []
    first_exit = [t for t in followups(store, draft_id) if f":{draft_id}:1:" in t["dedupe_key"]]
    assert len(first_exit) == 5 and {t["status"] for t in first_exit} == {"stopped"}


@pytest.mark.parametrize("how", ["complete", "unsubscribe"])
def test_completing_or_unsubscribing_stops_the_cadence(
    client: Any, settings: Any, store: Store, mailbox: Mailbox, how: str
) -> None:
    draft_id = leave(client)
    deliver(settings, mailbox.url, now=later(31))
    if how == "complete":
        store.execute("UPDATE drafts SET status = 'completed' WHERE id = :d", d=draft_id)
    else:
        import re

        link = re.search(r"/u/[^>]+", str(mailbox.messages[0]["List-Unsubscribe"])).group(0)
        client.post(link)
    mailbox.messages.clear()
    deliver(settings, mailbox.url, now=later(60 * 24 * 30))
    assert mailbox.messages == []
    assert {t["status"] for t in followups(store, draft_id)} <= {"stopped", "suppressed"}


def _resume(settings: Any, tmp_path: Any, *args: str) -> Any:
    from conftest import resume_cli

    return resume_cli(settings, tmp_path, *args)


def test_staff_marking_the_lead_contacted_stops_the_cadence(
    client: Any, settings: Any, store: Store, tmp_path: Any
) -> None:
    draft_id = leave(client)
    deliver(settings, now=later(31))
    done = _resume(settings, tmp_path, "lead", "status", draft_id, "contacted")
    assert done.returncode == 0, done.stderr
    assert "5 queued follow-up(s) stopped" in done.stdout
    assert {t["status"] for t in followups(store, draft_id)} == {"stopped"}
    store.execute("UPDATE drafts SET exit_at = NULL WHERE id = :d", d=draft_id)
    deliver(settings, now=later(200))  # no new exit for a lead the team has taken over
    assert len(followups(store, draft_id)) == 5


def test_lead_status_refuses_unknown_drafts_and_statuses(settings: Any, tmp_path: Any) -> None:
    unknown = _resume(settings, tmp_path, "lead", "status", "nope", "contacted")
    assert unknown.returncode == 2 and "no draft 'nope'" in unknown.stderr
    bad = _resume(settings, tmp_path, "lead", "status", "nope", "married")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr


def test_unticking_the_consent_withdraws_the_follow_up(
    client: Any, settings: Any, store: Store
) -> None:
    draft_id = leave(client)
    store.execute(
        "UPDATE field_values SET value = '' WHERE draft_id = :d AND name = 'consent_followup'",
        d=draft_id,
    )
    deliver(settings, now=later(31))
    assert followups(store, draft_id) == []


def test_a_suppressed_address_gets_no_cadence_queued(
    client: Any, settings: Any, store: Store
) -> None:
    draft_id = leave(client)
    store.execute(
        "INSERT INTO suppressions (dealer_id, email, reason, at) "
        "VALUES (1, 'pat@example.com', 'manual', CURRENT_TIMESTAMP)"
    )
    deliver(settings, now=later(31))
    assert followups(store, draft_id) == []


def test_a_retried_touch_still_waits_for_sending_hours(
    client: Any, settings: Any, store: Store
) -> None:
    from conftest import free_port

    draft_id = leave(client)
    deliver(settings, now=later(31))
    first = followups(store, draft_id)[0]
    due = dt.datetime.fromisoformat(str(first["due_at"])).replace(tzinfo=dt.UTC)
    deliver(settings, f"smtp://127.0.0.1:{free_port()}", now=due + dt.timedelta(seconds=1))
    retried = store.one("SELECT * FROM outbox WHERE id = :i", i=first["id"])
    assert retried["status"] == "pending" and retried["attempts"] == 1
    retry_at = dt.datetime.fromisoformat(str(retried["due_at"])).replace(tzinfo=dt.UTC)
    assert 8 <= retry_at.astimezone(CHICAGO).hour < 20


def test_a_shopper_who_left_on_the_payment_gets_the_results_copy(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    shopper.fill("result", action="save")
    draft_id = shopper.draft_id
    shopper.fill("save", action="send", email="rae@example.com", consent_followup="yes")
    deliver(settings, mailbox.url, now=later(31))
    exits = [e[:2] for e in store.events(draft_id) if e[0] == "exited"]
    assert exits == [("exited", "result")]
    mailbox.messages.clear()  # the resume link itself
    first = followups(store, draft_id)[0]
    due = dt.datetime.fromisoformat(str(first["due_at"])).replace(tzinfo=dt.UTC)
    deliver(settings, mailbox.url, now=due + dt.timedelta(seconds=1))
    subjects = [str(m["Subject"]) for m in mailbox.messages]
    assert subjects == ["Your 2024 Toyota RAV4 XLE estimate is saved"], subjects


class _StopsLanding(Mailbox):
    """The real SMTP server; while it takes the first message it is given, staff and a
    shopper act on two other messages that the worker has already claimed: the shopper of
    one unsubscribes (`resume suppress`), the lead of the other is taken over (`resume lead
    status … contacted`), each through its real command."""

    def __init__(self, act: Any) -> None:
        super().__init__()
        self.act, self.acted = act, False
        self.failed: BaseException | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.acted:
            self.acted = True
            try:
                await asyncio.to_thread(self.act, envelope.rcpt_tos[0])
            except BaseException as exc:  # shown by the test, not lost in the server's thread
                self.failed = exc
        return await super().handle_DATA(server, session, envelope)


def test_a_stop_that_lands_between_claim_and_send_still_stops_the_message(
    client: Any, settings: Any, store: Store, tmp_path: Any
) -> None:
    emails = ("ana@example.com", "ben@example.com", "cy@example.com")
    drafts = {email: leave(client, email=email) for email in emails}
    claimed: dict[str, bool] = {}
    order: list[str] = []  # the first shopper mailed, the one who unsubscribes, the one taken over

    def act(first: str) -> None:
        suppressed, taken_over = (e for e in emails if e != first)
        for email in (suppressed, taken_over):
            # Claimed already, in the batch being sent: pending, leased, not yet sent.
            [touch] = store.rows(
                "SELECT status, leased_until FROM outbox WHERE draft_id = :d AND kind = "
                "'followup' AND dedupe_key LIKE '%:1:1'",
                d=drafts[email],
            )
            claimed[email] = touch["status"] == "pending" and touch["leased_until"] is not None
        done = _resume(settings, tmp_path, "suppress", suppressed, "--dealer", "demo-motors")
        assert done.returncode == 0, done.stderr
        done = _resume(settings, tmp_path, "lead", "status", drafts[taken_over], "contacted")
        assert done.returncode == 0, done.stderr
        order.extend((first, suppressed, taken_over))

    box = _StopsLanding(act)
    box.controller.start()
    try:
        box.acted = True  # not yet: first the three resume links, and the exits found
        deliver(settings, box.url, now=later(31))
        assert len(box.messages) == 3 and claimed == {}
        assert all(len(followups(store, d)) == 5 for d in drafts.values())
        box.acted = False
        box.messages.clear()
        # A month on: every touch is due; the worker claims five at a time, first touches first.
        deliver(settings, box.url, now=later(60 * 24 * 30))
    finally:
        box.controller.stop()
    assert box.failed is None, repr(box.failed)
    first, suppressed, taken_over = order
    assert claimed == {suppressed: True, taken_over: True}, "the stops did not land mid-batch"
    got = [str(m["To"]) for m in box.messages]
    assert got == [first] * 5, got  # the other two got nothing after their stop
    statuses = {e: [t["status"] for t in followups(store, drafts[e])] for e in emails}
    assert statuses[first] == ["sent"] * 5
    # The claimed first touch is refused at send; the rest are stopped by the commands.
    assert statuses[suppressed][0] == "suppressed" and set(statuses[suppressed]) <= {
        "suppressed",
        "stopped",
    }
    assert statuses[taken_over] == ["stopped"] * 5
