"""The dashboard's security, probed as an attacker and a careless colleague would: isolation
between dealerships and between reps, lockout, MFA (wrong, stale and replayed codes), CSRF,
session timeouts, signing out everywhere, masked values and audited reveals, and no
sensitive value in any log, event or audit row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from html import unescape
from typing import Any

import pyotp
from conftest import PASSWORD, Shopper, Staff, Store, run, saved_for_later
from litestar.testing import TestClient
from test_credit import ABOUT, ADDRESS, INCOME, SENSITIVE

from resume.dealers import DealerConfig
from resume.queries import dealers as dealers_q
from resume.web.app import create_app


def other_dealer(settings: Any) -> int:
    """A second dealership on the same installation, with a lead of its own."""
    from resume.db import Database

    async def add() -> int:
        db = Database(settings)
        try:
            async with db.write() as conn:
                dealer = await dealers_q.add(
                    conn,
                    slug="hilltop-ford",
                    name="Hilltop Ford",
                    lead_email="leads@hilltop.example",
                    address="9 Summit Road",
                    phone="",
                    timezone="America/New_York",
                    origins=("https://www.hilltop.example",),
                    config=DealerConfig(),
                )
            return dealer.id
        finally:
            await db.dispose()

    return run(add())  # type: ignore[no-any-return]


def a_lead(
    client: Any, store: Store, dealer: str = "demo-motors", email: str = "x@example.com"
) -> int:
    shopper = Shopper(client, dealer=dealer)
    draft_id = saved_for_later(shopper, email, consent=True)
    return int(store.one("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)["lead_id"])


def detail(row: dict[str, Any]) -> dict[str, Any]:
    """An audit row's detail: JSON, which SQLite hands back as text to a raw query."""
    value = row["detail"]
    return json.loads(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def elsewhere(settings: Any) -> TestClient[Any]:
    """Another browser: a client with cookies of its own."""
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


# Every form of a lead's page, with fields that would change something if accepted.
FORMS = [
    ("attempt", {"channel": "call", "outcome": "reached", "note": "probe"}),
    ("status", {"status": "sold", "appointment": "", "reason": ""}),
    ("assign", {"owner": "1"}),
    ("take", {}),
    ("note", {"note": "probe"}),
    ("callback", {"due": "2031-01-01T10:00", "note": "probe"}),
    ("callback-done", {"callback": "1"}),
    ("send-link", {}),
    ("stop-followup", {}),
    ("offer", {"draft": "x", "low": "1000", "high": "", "valid_until": "2031-01-01", "note": ""}),
    ("reveal", {"draft": "x", "field": "email", "reason": "probe reason"}),
]


def test_another_dealerships_lead_is_not_found_on_every_route_and_form(
    client: Any, settings: Any, store: Store
) -> None:
    other = other_dealer(settings)
    with elsewhere(settings) as theirs:
        foreign = a_lead(theirs, store, dealer="hilltop-ford", email="theirs@example.com")
    assert store.one("SELECT dealer_id FROM leads WHERE id = :l", l=foreign)["dealer_id"] == other
    manager = Staff.active(client, settings, "morgan.mgr@demo-motors.example", "manager")
    assert manager.get(f"/dashboard/leads/{foreign}").status_code == 404
    manager.get("/dashboard/leads")
    before = store.snapshot()
    results = {}
    for action, fields in FORMS:
        response = manager.post(f"/dashboard/leads/{foreign}/{action}", follow=False, **fields)
        results[action] = response.status_code
        manager.get("/dashboard/leads")
    assert results == {action: 404 for action, _ in FORMS}
    after = store.snapshot()
    # Nothing changed but the audit of the manager's own page views.
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert [r["action"] for r in after["audit"][len(before["audit"]) :]] == []
    listing = manager.get("/dashboard/leads").text
    assert "theirs@example.com" not in listing
    assert manager.get("/dashboard/leads?dealer=hilltop-ford").status_code == 400


def test_a_rep_sees_their_own_leads_and_the_unassigned_queue_only(
    client: Any, settings: Any, store: Store
) -> None:
    pat = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    mine = a_lead(client, store, email="mine@example.com")
    with elsewhere(settings) as other_browser:
        kim = Staff.active(other_browser, settings, "kim.rep@demo-motors.example", "bdc")
        kims = a_lead(other_browser, store, email="kims@example.com")
        owners = {r["id"]: r["owner_id"] for r in store.rows("SELECT id, owner_id FROM leads")}
        assert owners[mine] != owners[kims]  # round-robin took turns
        store.execute(
            "UPDATE leads SET owner_id = (SELECT id FROM staff WHERE email = :e) WHERE id = :l",
            e="kim.rep@demo-motors.example",
            l=kims,
        )
        store.execute(
            "UPDATE leads SET owner_id = (SELECT id FROM staff WHERE email = :e) WHERE id = :l",
            e="pat.rep@demo-motors.example",
            l=mine,
        )
        unassigned = a_lead(other_browser, store, email="nobody@example.com")
        store.execute("UPDATE leads SET owner_id = NULL WHERE id = :l", l=unassigned)
        assert kim.get(f"/dashboard/leads/{kims}").status_code == 200
    listing = pat.get("/dashboard/leads").text
    assert "mine@example.com" in listing and "nobody@example.com" in listing
    assert "kims@example.com" not in listing
    assert pat.get(f"/dashboard/leads/{kims}").status_code == 404
    pat.get("/dashboard/leads")
    taken = pat.post(f"/dashboard/leads/{kims}/take", follow=False)
    assert taken.status_code == 404
    # A rep may take an unassigned lead, and give nobody else's away.
    pat.get(f"/dashboard/leads/{unassigned}")
    pat.post(f"/dashboard/leads/{unassigned}/take")
    assert "The lead is yours." in pat.page.text
    pat.get(f"/dashboard/leads/{mine}")
    assert pat.post(f"/dashboard/leads/{mine}/assign", follow=False, owner="").status_code == 404


def test_five_failures_lock_the_email_with_the_same_message_whether_or_not_it_exists(
    client: Any, settings: Any, store: Store
) -> None:
    Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    for email in ("pat.rep@demo-motors.example", "nobody@demo-motors.example"):
        with elsewhere(settings) as browser:
            person = Staff(browser, settings, email)
            answers = []
            for _ in range(5):
                person.get("/dashboard/login")
                page = person.post("/dashboard/login", email=email, password="wrong password!!")
                answers.append((page.status_code, "don't match an account" in unescape(page.text)))
            assert answers == [(403, True)] * 5
            person.get("/dashboard/login")
            locked = person.post("/dashboard/login", email=email, password=PASSWORD)
            assert locked.status_code == 429
            assert "paused for 15 minutes" in unescape(locked.text)
    actions = [r["action"] for r in store.rows("SELECT action FROM audit ORDER BY id")]
    assert actions.count("sign_in_failed") == 10 and actions.count("locked") == 2
    assert actions.count("sign_in_locked") == 2
    # After the 15 minutes, the right password works again.
    store.execute("UPDATE limits SET blocked_until = :t", t=dt.datetime.now(dt.UTC))
    with elsewhere(settings) as browser:
        person = Staff(browser, settings, "pat.rep@demo-motors.example")
        person.secret = _secret(store, settings, person.email)
        assert person.login().status_code == 200
        assert "Leads" in person.page.text


def _secret(store: Store, settings: Any, email: str) -> str:
    from resume.keyring import Keyring

    sealed = store.one("SELECT totp_secret FROM staff WHERE email = :e", e=email)["totp_secret"]
    return Keyring(settings.data_keys).open(sealed)


def test_codes_wrong_stale_or_replayed_are_refused(
    client: Any, settings: Any, store: Store
) -> None:
    pat = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    totp = pyotp.TOTP(pat.secret)
    with elsewhere(settings) as browser:
        person = Staff(browser, settings, pat.email)
        person.secret = pat.secret
        now = dt.datetime.now(dt.UTC).timestamp()
        refused = {
            "wrong": "000000" if totp.now() != "000000" else "111111",
            "stale": totp.at(now - 90),  # three steps back: past the one step of drift
            "letters": "abcdef",
        }
        for why, code in refused.items():
            page = person.login(code=code)
            assert page.status_code == 403, why
            assert "That code didn't work" in unescape(page.text)
        # The code the first sign-in used, again, in its own time step: a replay.
        used = store.one("SELECT totp_step FROM staff WHERE email = :e", e=pat.email)["totp_step"]
        page = person.login(code=totp.generate_otp(used))
        assert page.status_code == 403
    failed = store.rows("SELECT detail FROM audit WHERE action = 'sign_in_failed'")
    assert [detail(r)["wrong"] for r in failed] == ["code"] * 4


def test_a_recovery_code_signs_in_once(client: Any, settings: Any, store: Store) -> None:
    pat = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    code = pat.recovery[3]
    with elsewhere(settings) as browser:
        person = Staff(browser, settings, pat.email)
        assert person.login(code=code.upper().replace("-", " ")).status_code == 200
        assert "Leads" in person.page.text
    with elsewhere(settings) as browser:
        again = Staff(browser, settings, pat.email).login(code=code)
        assert again.status_code == 403


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    client: Any, settings: Any, store: Store
) -> None:
    lead = a_lead(client, store)
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    before = store.snapshot()
    for token in ("", "forged", "x" * 43):
        forged = client.post(
            f"/dashboard/leads/{lead}/note",
            data={"csrf": token, "note": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "nothing was changed" in unescape(forged.text)
    assert store.snapshot() == before
    # The sign-in form too: posted from elsewhere, without the page's own token.
    with elsewhere(settings) as browser:
        cross = browser.post(
            "/dashboard/login",
            data={"email": rep.email, "password": PASSWORD},
            follow_redirects=False,
        )
        assert cross.status_code == 403


def test_sessions_end_after_30_idle_minutes_and_12_hours(
    client: Any, settings: Any, store: Store
) -> None:
    Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    assert client.get("/dashboard/leads", follow_redirects=False).status_code == 200
    idle = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    store.execute("UPDATE staff_sessions SET last_seen_at = :t WHERE mfa_done", t=idle)
    gone = client.get("/dashboard/leads", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/dashboard/login")
    with elsewhere(settings) as browser:
        person = Staff(browser, settings, "pat.rep@demo-motors.example")
        person.secret = _secret(store, settings, person.email)
        person.login()
        assert browser.get("/dashboard/leads", follow_redirects=False).status_code == 200
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=12, seconds=1)
        store.execute("UPDATE staff_sessions SET created_at = :t WHERE ended_at IS NULL", t=old)
        assert browser.get("/dashboard/leads", follow_redirects=False).status_code == 303
    whys = store.rows("SELECT ended_why FROM staff_sessions WHERE mfa_done")
    assert sorted(r["ended_why"] for r in whys) == ["absolute", "idle"]


def test_sign_out_everywhere_ends_every_session(client: Any, settings: Any, store: Store) -> None:
    pat = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    with elsewhere(settings) as phone:
        other = Staff(phone, settings, pat.email)
        other.secret = pat.secret
        other.login()
        assert phone.get("/dashboard/leads", follow_redirects=False).status_code == 200
        pat.get("/dashboard/account")
        pat.post("/dashboard/logout", everywhere="1")
        assert phone.get("/dashboard/leads", follow_redirects=False).status_code == 303
    assert client.get("/dashboard/leads", follow_redirects=False).status_code == 303
    assert store.rows("SELECT id FROM staff_sessions WHERE ended_at IS NULL AND mfa_done") == []


def test_sensitive_answers_are_masked_and_a_reveal_is_audited_with_its_reason(
    client: Any, settings: Any, store: Store, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    applicant = Shopper(client, widget="credit")
    applicant.start()
    applicant.fill("about", **{**ABOUT, "phone": "(217) 555-0123"})
    applicant.fill("address", **ADDRESS)
    draft_id = applicant.draft_id
    applicant.fill("income", **INCOME)
    lead = int(store.one("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)["lead_id"])
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    page = rep.get(f"/dashboard/leads/{lead}").text
    assert "Rosa" in page and "rosa@example.com" in page
    for value in SENSITIVE:
        assert value not in page
    assert "Reveal" not in page
    rep.get(f"/dashboard/leads/{lead}")
    refused = rep.post(
        f"/dashboard/leads/{lead}/reveal",
        follow=False,
        draft=draft_id,
        field="monthly_income",
        reason="to check",
    )
    assert refused.status_code == 404
    with elsewhere(settings) as browser:
        manager = Staff.active(browser, settings, "morgan.mgr@demo-motors.example", "manager")
        masked = manager.get(f"/dashboard/leads/{lead}").text
        assert "5,000" not in masked and "Reveal" in masked
        short = manager.post(
            f"/dashboard/leads/{lead}/reveal",
            follow=False,
            draft=draft_id,
            field="monthly_income",
            reason="",
        )
        assert short.status_code == 400
        manager.get(f"/dashboard/leads/{lead}")
        shown = manager.post(
            f"/dashboard/leads/{lead}/reveal",
            follow=False,
            draft=draft_id,
            field="monthly_income",
            reason="Shopper asked us to confirm it",
        )
        assert shown.status_code == 200 and "5,000" in shown.text
        assert "Evergreen" not in shown.text  # only the field asked for
    [reveal] = store.rows("SELECT * FROM audit WHERE action = 'revealed'")
    assert detail(reveal)["field"] == "monthly_income"
    assert detail(reveal)["reason"] == "Shopper asked us to confirm it"
    # No sensitive value in a log line, an event, the audit or the timeline.
    written = " ".join(
        str(row)
        for table in ("events", "audit", "lead_activity", "leads", "outbox")
        for row in store.rows(f"SELECT * FROM {table}")
    )
    for value in SENSITIVE:
        assert value not in written, value
        assert value not in caplog.text, value


def test_an_invitation_works_once_and_a_fresh_one_replaces_it(
    client: Any, settings: Any, store: Store
) -> None:
    person, link = Staff.invited(client, settings, "new.rep@demo-motors.example", "sales")
    weak = person.get(link)
    assert weak.status_code == 200
    for password, says in (
        ("short", "at least 12"),
        ("password1234", "most common"),
        ("new.rep is my password", "email address"),
    ):
        page = person.post(link, password=password, again=password)
        assert page.status_code == 422 and says in unescape(page.text)
    person.get(link)
    assert "not the same" in unescape(
        person.post(link, password=PASSWORD, again=PASSWORD + "!").text
    )
    assert (
        store.one("SELECT password_hash FROM staff WHERE email = :e", e=person.email)[
            "password_hash"
        ]
        is None
    )
    person.accept(link)
    again = client.get(link)
    assert again.status_code == 400 and "used already" in unescape(again.text)
    from conftest import resume_cli

    fresh = resume_cli(
        settings,
        __import__("pathlib").Path(settings.mail_dir).parent,
        "staff",
        "invite",
        person.email,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert "/dashboard/invite/" in fresh.stdout


def test_disabling_an_account_ends_its_sessions_and_refuses_its_sign_in(
    client: Any, settings: Any, store: Store, tmp_path: Any
) -> None:
    from conftest import resume_cli

    pat = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    assert client.get("/dashboard/leads", follow_redirects=False).status_code == 200
    listed = resume_cli(settings, tmp_path, "staff", "list", "--dealer", "demo-motors")
    assert listed.returncode == 0, listed.stderr
    assert re.search(
        r"pat\.rep@demo-motors\.example\s+sales\s+active\s+no\s+demo-motors", listed.stdout
    )
    done = resume_cli(settings, tmp_path, "staff", "disable", pat.email)
    assert done.returncode == 0 and "1 session(s) ended" in done.stdout
    assert client.get("/dashboard/leads", follow_redirects=False).status_code == 303
    with elsewhere(settings) as browser:
        person = Staff(browser, settings, pat.email)
        person.secret = pat.secret
        assert person.login().status_code == 403
    assert resume_cli(settings, tmp_path, "staff", "disable", "nobody@x.example").returncode == 2


def test_every_view_of_a_lead_is_audited_but_the_page_a_form_returns_to(
    client: Any, settings: Any, store: Store
) -> None:
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    lead, other = a_lead(client, store), a_lead(client, store, email="y@example.com")

    def views(of: int) -> int:
        return len(
            store.rows(
                "SELECT id FROM audit WHERE action = 'lead_viewed' AND subject = :s",
                s=f"lead:{of}",
            )
        )

    rep.get(f"/dashboard/leads/{lead}")
    assert views(lead) == 1
    returned = rep.post(f"/dashboard/leads/{lead}/note", note="Prefers texts")
    assert "Note added." in returned.text
    # The page the note's form redirects back to is the visit the note's own row records,
    # and so is reloading it at once.
    assert views(lead) == 1
    assert store.rows("SELECT id FROM audit WHERE action = 'note_added'")
    back = str(returned.url)
    assert rep.get(back).status_code == 200 and views(lead) == 1
    # A `done` typed by hand, or one made for another lead, proves no form: audited.
    forged = rep.get(f"/dashboard/leads/{lead}?done=note")
    assert forged.status_code == 200 and "Note added." not in forged.text
    assert views(lead) == 2
    rep.get(f"/dashboard/leads/{other}")
    elsewhere_done = str(rep.post(f"/dashboard/leads/{other}/note", note="x").url)
    borrowed = rep.get(f"/dashboard/leads/{lead}?{elsewhere_done.partition('?')[2]}")
    assert borrowed.status_code == 200 and "Note added." not in borrowed.text
    assert views(lead) == 3 and views(other) == 1
    # Another account's done is not this one's.
    with elsewhere(settings) as browser:
        colleague = Staff.active(browser, settings, "sam.bdc@demo-motors.example", "manager")
        page = colleague.get(back)
        assert page.status_code == 200 and "Note added." not in page.text
    assert views(lead) == 4
    for damaged in ("x" * 600, "%ff%fe", "1.2.note.abc"):
        assert rep.get(f"/dashboard/leads/{lead}?done={damaged}").status_code == 200
    assert views(lead) == 7


def test_what_an_attempt_does_to_the_status_is_audited(
    client: Any, settings: Any, store: Store
) -> None:
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    lead = a_lead(client, store)
    rep.get(f"/dashboard/leads/{lead}")
    rep.post(f"/dashboard/leads/{lead}/attempt", channel="call", outcome="no_answer", note="")
    rep.post(f"/dashboard/leads/{lead}/attempt", channel="text", outcome="replied", note="")
    changed = store.rows(
        "SELECT detail FROM audit WHERE action = 'status_changed' AND subject = :s ORDER BY id",
        s=f"lead:{lead}",
    )
    assert [detail(r) for r in changed] == [
        {"from": "new", "to": "attempting", "by": "attempt"},
        {"from": "attempting", "to": "contacted", "by": "attempt"},
    ]
    assert store.one("SELECT status FROM leads WHERE id = :l", l=lead)["status"] == "contacted"


def test_lockouts_and_new_passwords_are_audited_where_the_admin_reads_them(
    client: Any, settings: Any, store: Store, tmp_path: Any
) -> None:
    from conftest import resume_cli

    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    rep_id = store.one("SELECT id FROM staff WHERE email = :e", e=rep.email)["id"]
    # Choosing the password from the invitation replaced the password and the app's key.
    (chosen,) = store.rows(
        "SELECT staff_id, detail FROM audit WHERE action = 'password_set' AND subject = :s",
        s=f"staff:{rep_id}",
    )
    assert chosen["staff_id"] == rep_id and detail(chosen)["from"] == "invitation"

    with elsewhere(settings) as browser, elsewhere(settings) as attacker:
        # The rep is between the password and the code when someone else locks the email.
        person = Staff(browser, settings, rep.email)
        person.secret = rep.secret
        person.get("/dashboard/login")
        assert (
            "Enter the code"
            in person.post("/dashboard/login", email=rep.email, password=PASSWORD).text
        )
        guesser = Staff(attacker, settings, rep.email)
        for _ in range(5):
            guesser.get("/dashboard/login")
            guesser.post("/dashboard/login", email=rep.email, password="wrong password!!")
        refused = person.post("/dashboard/login/code", code=person.code())
        assert refused.status_code == 429 and "paused for 15 minutes" in unescape(refused.text)
    locked = store.rows(
        "SELECT staff_id, subject, detail FROM audit WHERE action = 'sign_in_locked'"
    )
    assert [(r["staff_id"], r["subject"], detail(r)) for r in locked] == [
        (rep_id, "", {"at": "code"})
    ]
    # The code was refused and made no session: the rep's one sign-in is the first.
    signed_in = store.rows(
        "SELECT id FROM audit WHERE action = 'sign_in' AND staff_id = :s", s=rep_id
    )
    assert len(signed_in) == 1

    # The dealership's admin reads the lockout and the new password, and the CLI's
    # disable, which no signed-in person did.
    with elsewhere(settings) as browser:
        admin = Staff.active(browser, settings, "alex.admin@demo-motors.example", "admin")
        disabled = resume_cli(settings, tmp_path, "staff", "disable", rep.email)
        assert disabled.returncode == 0, disabled.stderr
        for action in ("sign_in_locked", "password_set", "staff_disabled"):
            page = admin.get(f"/dashboard/audit?action={action}")
            assert page.status_code == 200
            rows = re.findall(r"<tr><td data-label=\"When \(UTC\)\">.*?</tr>", page.text, re.S)
            assert rows and all(action.replace("_", " ") in row for row in rows), action
            assert rep.email in page.text or f"staff:{rep_id}" in page.text, action
