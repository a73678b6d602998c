"""Staff management in the dashboard (issue #13, item 2), as a dealership's admin uses it:
the list of everyone covering their stores, an invitation whose link the invited person
accepts, role and stores changed, a person disabled (their session stops working) and
enabled again, MFA reset (no sign-in until they enrol again), one session ended; each change
audited with its before and after. Nothing of another dealership, nothing for a manager or a
rep, no way to leave a dealership without an admin, and a clear 4xx for whatever a hostile
or clumsy hand sends, with nothing changed.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from conftest import Staff, Store
from test_dashboard_security import elsewhere, other_dealer

ADMIN = "ada.admin@demo-motors.example"
REP = "pat.rep@demo-motors.example"
LINK = re.compile(
    r'<p class="key" id="invite-link">http://127\.0\.0\.1:8000(/dashboard/invite/[^<]+)</p>'
)


@pytest.fixture
def admin(client: Any, settings: Any) -> Staff:
    """The dealership's admin, signed in: the person these pages are for."""
    return Staff.active(client, settings, ADMIN, "admin")


def person(store: Store, email: str) -> int:
    return int(store.one("SELECT id FROM staff WHERE email = :e", e=email)["id"])


def audited(store: Store, action: str) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT staff_id, dealer_id, subject, detail FROM audit WHERE action = :a ORDER BY id",
        a=action,
    )
    for row in rows:
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
    return rows


def covers(store: Store, staff_id: int) -> list[int]:
    rows = store.rows(
        "SELECT dealer_id FROM staff_dealers WHERE staff_id = :s ORDER BY dealer_id", s=staff_id
    )
    return [r["dealer_id"] for r in rows]


def shown_link(page: Any) -> str:
    found = LINK.search(page.text)
    assert found, page.text[:2000]
    return unescape(found.group(1))


def test_the_list_shows_everyone_with_their_role_stores_status_and_mfa(
    admin: Staff, store: Store
) -> None:
    page = admin.get("/dashboard/staff")
    assert page.status_code == 200
    text = unescape(page.text)
    me, manager = person(store, ADMIN), person(store, "manager@demo-motors.example")
    # The first column links to the person; the status tag ends the row (style rule 14).
    row = re.search(
        rf'<tr>\s*<td data-label="Person"[^>]*><a href="/dashboard/staff/{manager}">'
        r"manager@demo-motors\.example</a>.*?</tr>",
        page.text,
        re.S,
    )
    assert row, text[:3000]
    assert "Manager" in row.group(0) and "Demo Motors" in row.group(0)
    assert "Not set up" in row.group(0)
    assert re.search(r'<strong class="tag attempting">Invited</strong></td>\s*</tr>', row.group(0))
    assert f'href="/dashboard/staff/{me}"' in page.text
    assert 'class="tag contacted">Active' in page.text
    assert 'aria-current="page">Staff' in page.text
    # The invite form offers the admin's one store, ticked.
    assert re.search(r'name="store-1" value="1"[^>]*checked', page.text)


def test_an_invited_rep_accepts_the_link_shown_once_on_their_page(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    admin.get("/dashboard/staff")
    answer = admin.post(
        "/dashboard/staff",
        follow=False,
        email=" Pat.Rep@Demo-Motors.example ",
        role="sales",
        **{"store-1": "1"},
    )
    assert answer.status_code == 303
    rep = person(store, REP)
    assert answer.headers["location"] == f"/dashboard/staff/{rep}?done=invited"
    page = admin.client.get(answer.headers["location"])
    assert page.status_code == 200
    link = shown_link(page)
    assert "Send this to pat.rep@demo-motors.example" in unescape(page.text)
    # Shown once: the page again no longer has it.
    assert LINK.search(admin.client.get(answer.headers["location"]).text) is None
    row = store.one("SELECT role, status FROM staff WHERE id = :s", s=rep)
    assert row == {"role": "sales", "status": "invited"} and covers(store, rep) == [1]
    (entry,) = [e for e in audited(store, "staff_invited") if e["subject"] == f"staff:{rep}"]
    assert entry["staff_id"] == person(store, ADMIN) and entry["dealer_id"] == 1
    assert entry["subject"] == f"staff:{rep}" and entry["detail"]["role"] == "sales"
    with elsewhere(settings) as browser:
        pat = Staff(browser, settings, REP)
        pat.accept(link)
        assert pat.login().status_code == 200
        assert "/dashboard/leads" in str(pat.page.url)
    # The link never rode in an address the browser was sent to (logs, history).
    assert link.rpartition("/")[2] not in answer.headers["location"]
    listed = admin.get("/dashboard/staff")
    assert store.one("SELECT status FROM staff WHERE id = :s", s=rep)["status"] == "active"
    assert f'href="/dashboard/staff/{rep}">{REP}</a>' in listed.text


def test_invitation_mistakes_are_shown_with_what_was_typed_and_nothing_is_stored(
    admin: Staff, store: Store
) -> None:
    before = store.snapshot()
    for fields, message in (
        ({"email": "not an address", "role": "sales", "store-1": "1"}, "email"),
        (
            {"email": "manager@demo-motors.example", "role": "sales", "store-1": "1"},
            "already has an account",
        ),
        ({"email": "new@demo-motors.example", "role": "manager"}, "Choose at least one store."),
    ):
        admin.get("/dashboard/staff")
        page = admin.post("/dashboard/staff", **fields)
        assert page.status_code == 400, fields
        assert message in unescape(page.text), fields
        assert "There is a problem" in page.text and "<title>Error: Staff" in page.text
        assert f'value="{fields["email"]}"' in page.text
    assert store.snapshot() == before


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"role": "owner", "store-1": "1"}, 400),
        ({"role": "sales", "store-2": "1"}, 404),
        ({"role": "sales", "store-abc": "1"}, 400),
        ({"role": "sales", "store-1": "yes"}, 400),
        ({"role": "sales", "store-" + "9" * 40: "1"}, 400),
        ({"role": "sales", "store-1": "1", "csrf": "forged"}, 403),
    ],
)
def test_hostile_invitations_are_a_clear_4xx(
    admin: Staff, store: Store, fields: dict[str, str], status: int
) -> None:
    admin.get("/dashboard/staff")
    before = store.snapshot()
    sent = {"csrf": admin.csrf, "email": "x@demo-motors.example", **fields}
    answer = admin.client.post("/dashboard/staff", data=sent, follow_redirects=False)
    assert answer.status_code == status
    assert "Traceback" not in answer.text and "<h1" in answer.text
    assert store.snapshot() == before


def test_role_and_stores_change_with_the_before_and_after_audited(
    client: Any, settings: Any, store: Store
) -> None:
    hilltop = other_dealer(settings)
    group = Staff.active(client, settings, ADMIN, "admin", dealers=(1, hilltop))
    rep_browser = elsewhere(settings)
    with rep_browser:
        Staff.active(rep_browser, settings, REP, "sales")
    rep = person(store, REP)
    page = group.get(f"/dashboard/staff/{rep}")
    assert "Hilltop Ford" in page.text and "Demo Motors" in page.text
    done = group.post(
        f"/dashboard/staff/{rep}/access",
        role="manager",
        **{"store-1": "1", f"store-{hilltop}": "1"},
    )
    assert "Their role and stores are saved." in done.text
    assert store.one("SELECT role FROM staff WHERE id = :s", s=rep)["role"] == "manager"
    assert covers(store, rep) == [1, hilltop]
    entries = audited(store, "staff_role_changed")
    assert [e["dealer_id"] for e in entries] == [1, hilltop]
    assert entries[0]["detail"] == {
        "before": {"role": "sales", "stores": ["demo-motors"]},
        "after": {"role": "manager", "stores": ["demo-motors", "hilltop-ford"]},
    }
    # The same again changes nothing and audits nothing.
    again = group.post(
        f"/dashboard/staff/{rep}/access",
        role="manager",
        **{"store-1": "1", f"store-{hilltop}": "1"},
    )
    assert "Nothing changed" in again.text
    assert len(audited(store, "staff_role_changed")) == 2
    # No store at all is a message on the page, with nothing changed.
    refused = group.post(f"/dashboard/staff/{rep}/access", role="sales")
    assert refused.status_code == 400 and "Choose at least one store." in refused.text
    assert covers(store, rep) == [1, hilltop]


def test_a_disabled_person_is_signed_out_at_once_and_enabled_through_a_fresh_invitation(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    with elsewhere(settings) as browser:
        rep = Staff.active(browser, settings, REP, "sales")
        rep_id = person(store, REP)
        assert rep.get("/dashboard/leads").status_code == 200
        page = admin.get(f"/dashboard/staff/{rep_id}")
        assert "testclient" in page.text  # their session, with its browser
        done = admin.post(f"/dashboard/staff/{rep_id}/disable")
        assert "Disabled: their sessions ended" in done.text
        assert 'class="tag lost">Disabled' in done.text
        assert "Not signed in anywhere." in done.text
        gone = rep.client.get("/dashboard/leads", follow_redirects=False)
        assert gone.status_code == 303 and "/dashboard/login" in gone.headers["location"]
        assert rep.login().status_code == 403
        assert (
            store.rows(
                "SELECT id FROM staff_sessions WHERE staff_id = :s AND ended_at IS NULL", s=rep_id
            )
            == []
        )
        (entry,) = audited(store, "staff_disabled")  # the name `resume staff disable` uses
        assert entry["detail"]["before"] == {"status": "active"}
        assert entry["detail"]["after"] == {"status": "disabled"} and entry["detail"]["count"] == 1
        done = admin.post(f"/dashboard/staff/{rep_id}/enable")
        link = shown_link(done)
        (entry,) = audited(store, "staff_enabled")
        assert entry["detail"]["before"] == {"status": "disabled"}
        assert store.one("SELECT status FROM staff WHERE id = :s", s=rep_id)["status"] == "invited"
        # The old password and app no longer sign in; the new invitation does.
        assert rep.login().status_code == 403
        rep.accept(link)
        assert rep.login().status_code == 200 and rep.get("/dashboard/leads").status_code == 200


def test_after_an_mfa_reset_the_person_must_enrol_again_before_signing_in(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    with elsewhere(settings) as browser:
        rep = Staff.active(browser, settings, REP, "sales")
        rep_id = person(store, REP)
        old_secret = rep.secret
        admin.get(f"/dashboard/staff/{rep_id}")
        done = admin.post(f"/dashboard/staff/{rep_id}/reset-mfa")
        assert "MFA reset" in done.text
        link = shown_link(done)
        row = store.one("SELECT status, totp_secret FROM staff WHERE id = :s", s=rep_id)
        assert row == {"status": "invited", "totp_secret": None}
        assert store.rows("SELECT * FROM recovery_codes WHERE staff_id = :s", s=rep_id) == []
        assert rep.client.get("/dashboard/leads", follow_redirects=False).status_code == 303
        refused = rep.login()
        assert refused.status_code == 403 and "Enter the code" not in refused.text
        (entry,) = audited(store, "staff_mfa_reset")
        assert entry["detail"]["before"]["mfa"] == "enrolled" and entry["detail"]["count"] == 1
        rep.accept(link)
        assert rep.secret != old_secret
        assert rep.login().status_code == 200 and rep.get("/dashboard/leads").status_code == 200


def test_one_session_is_ended_and_the_others_go_on(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    with elsewhere(settings) as phone, elsewhere(settings) as desk:
        rep = Staff.active(phone, settings, REP, "sales")
        rep_id = person(store, REP)
        other = Staff(desk, settings, REP)
        other.secret = rep.secret
        other.login()
        sessions = store.rows(
            "SELECT id FROM staff_sessions WHERE staff_id = :s AND mfa_done AND ended_at IS NULL "
            "ORDER BY created_at",
            s=rep_id,
        )
        assert len(sessions) == 2
        first = sessions[0]["id"]
        page = admin.get(f"/dashboard/staff/{rep_id}")
        assert page.text.count("/end-session") == 2
        done = admin.post(f"/dashboard/staff/{rep_id}/end-session", session=first)
        assert "That session ended." in done.text
        assert phone.get("/dashboard/leads", follow_redirects=False).status_code == 303
        assert desk.get("/dashboard/leads").status_code == 200
        (entry,) = audited(store, "session_ended_by_admin")
        assert entry["subject"] == f"staff:{rep_id}" and entry["detail"]["session_ip"]
        # Ended is ended; someone else's session through this person's form is not found;
        # the admin's own current session is signing out, not this.
        before = store.snapshot()
        admin.get(f"/dashboard/staff/{rep_id}")
        assert (
            admin.post(
                f"/dashboard/staff/{rep_id}/end-session", follow=False, session=first
            ).status_code
            == 404
        )
        mine = admin.client.cookies.get("resume-staff")
        assert mine
        import hashlib

        current = hashlib.sha256(mine.encode()).hexdigest()
        me = person(store, ADMIN)
        admin.get(f"/dashboard/staff/{me}")
        assert "(this session of yours)" in admin.page.text
        assert (
            admin.post(
                f"/dashboard/staff/{me}/end-session", follow=False, session=current
            ).status_code
            == 400
        )
        admin.get(f"/dashboard/staff/{me}")
        assert (
            admin.post(
                f"/dashboard/staff/{rep_id}/end-session", follow=False, session=current
            ).status_code
            == 404
        )
        admin.get(f"/dashboard/staff/{me}")
        assert (
            admin.post(
                f"/dashboard/staff/{rep_id}/end-session", follow=False, session="x' OR 1=1 --"
            ).status_code
            == 400
        )
        assert store.snapshot() == before


def test_no_dealership_is_left_without_an_admin(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    me = person(store, ADMIN)
    page = admin.get(f"/dashboard/staff/{me}")
    assert "/disable" not in page.text and "/reset-mfa" not in page.text
    before = store.snapshot()
    for action, fields in (
        ("disable", {}),
        ("reset-mfa", {}),
        ("access", {"role": "manager", "store-1": "1"}),
    ):
        admin.get(f"/dashboard/staff/{me}")
        answer = admin.post(f"/dashboard/staff/{me}/{action}", follow=False, **fields)
        assert answer.status_code == 403, action
        assert "Traceback" not in answer.text
    assert store.snapshot() == before
    # With a second active admin, the first may step down; then the second, now the only
    # one, may not be disabled or reset by anyone (the first is a manager and can't).
    with elsewhere(settings) as browser:
        second = Staff.active(browser, settings, "sam.admin@demo-motors.example", "admin")
        sam = person(store, second.email)
        admin.get(f"/dashboard/staff/{me}")
        done = admin.post(f"/dashboard/staff/{me}/access", role="manager", **{"store-1": "1"})
        assert done.status_code == 200 and "/dashboard/leads" in str(done.url)
        assert store.one("SELECT role FROM staff WHERE id = :s", s=me)["role"] == "manager"
        assert admin.get("/dashboard/staff").status_code == 404
        second.get(f"/dashboard/staff/{sam}")
        assert (
            second.post(
                f"/dashboard/staff/{sam}/access", follow=False, role="sales", **{"store-1": "1"}
            ).status_code
            == 403
        )


def test_a_fresh_invitation_replaces_the_older_link(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    manager = person(store, "manager@demo-motors.example")
    admin.get(f"/dashboard/staff/{manager}")
    first = shown_link(admin.post(f"/dashboard/staff/{manager}/reinvite"))
    second = shown_link(admin.post(f"/dashboard/staff/{manager}/reinvite"))
    assert first != second
    assert len(audited(store, "staff_reinvited")) == 2
    with elsewhere(settings) as browser:
        assert browser.get(first).status_code == 400
        assert browser.get(second).status_code == 200
    # An active person gets an MFA reset, not an invitation.
    me = person(store, ADMIN)
    admin.get(f"/dashboard/staff/{me}")
    assert admin.post(f"/dashboard/staff/{me}/reinvite", follow=False).status_code == 400


def test_a_planted_link_cookie_is_not_shown(admin: Staff, store: Store) -> None:
    """A link is shown only when the cookie carries a well-signed invitation for this
    person: one planted by another site, or for someone else, shows nothing."""
    manager = person(store, "manager@demo-motors.example")
    me = person(store, ADMIN)
    admin.get(f"/dashboard/staff/{manager}")
    admin.post(f"/dashboard/staff/{manager}/reinvite", follow=False)
    token = admin.client.cookies.get("resume-staff-invite")
    assert token
    admin.client.cookies.set("resume-staff-invite", token, path=f"/dashboard/staff/{me}")
    assert LINK.search(admin.client.get(f"/dashboard/staff/{me}").text) is None
    admin.client.cookies.set("resume-staff-invite", "forged.value", path=f"/dashboard/staff/{me}")
    assert admin.client.get(f"/dashboard/staff/{me}").status_code == 200


ACTIONS = [
    ("access", {"role": "sales", "store-1": "1"}),
    ("disable", {}),
    ("enable", {}),
    ("reset-mfa", {}),
    ("reinvite", {}),
    ("end-session", {"session": "0" * 64}),
]


def test_another_dealerships_admin_and_a_manager_or_rep_find_nothing(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    hilltop = other_dealer(settings)
    ours = person(store, "manager@demo-motors.example")
    me = person(store, ADMIN)
    before = store.snapshot()
    with elsewhere(settings) as browser:
        theirs = Staff.active(browser, settings, "hal@hilltop.example", "admin", dealers=(hilltop,))
        listed = theirs.get("/dashboard/staff")
        assert listed.status_code == 200
        assert ADMIN not in listed.text and "manager@demo-motors" not in listed.text
        for target in (ours, me):
            assert theirs.get(f"/dashboard/staff/{target}").status_code == 404
            for action, fields in ACTIONS:
                theirs.get("/dashboard/staff")
                answer = theirs.post(f"/dashboard/staff/{target}/{action}", follow=False, **fields)
                assert answer.status_code == 404, (target, action)
        # Inviting into our store from theirs is not found either.
        theirs.get("/dashboard/staff")
        assert (
            theirs.post(
                "/dashboard/staff",
                follow=False,
                email="z@x.example",
                role="sales",
                **{"store-1": "1"},
            ).status_code
            == 404
        )
    # Their admin's own rows came and went with them; nothing of ours changed.
    after = store.snapshot()
    for table in ("staff_dealers", "recovery_codes"):
        assert [r for r in after[table] if r.get("staff_id") in (ours, me)] == [
            r for r in before[table] if r.get("staff_id") in (ours, me)
        ]
    for email, role in (
        ("morgan.mgr@demo-motors.example", "manager"),
        (REP, "sales"),
        ("bo.bdc@demo-motors.example", "bdc"),
    ):
        with elsewhere(settings) as browser:
            someone = Staff.active(browser, settings, email, role)
            assert someone.get("/dashboard/staff").status_code == 404
            assert "/dashboard/staff" not in someone.get("/dashboard/leads").text
            assert someone.get(f"/dashboard/staff/{me}").status_code == 404
            for action, fields in ACTIONS:
                someone.get("/dashboard/leads")
                answer = someone.post(f"/dashboard/staff/{me}/{action}", follow=False, **fields)
                assert answer.status_code == 404, (role, action)
            someone.get("/dashboard/leads")
            assert (
                someone.post(
                    "/dashboard/staff",
                    follow=False,
                    email="z@x.example",
                    role="admin",
                    **{"store-1": "1"},
                ).status_code
                == 404
            )
    assert store.one("SELECT role, status FROM staff WHERE id = :s", s=me) == {
        "role": "admin",
        "status": "active",
    }


def test_someone_who_also_works_elsewhere_is_shown_but_not_changed(
    client: Any, settings: Any, admin: Staff, store: Store
) -> None:
    hilltop = other_dealer(settings)
    with elsewhere(settings) as browser:
        Staff.active(browser, settings, "gwen.group@example.com", "admin", dealers=(1, hilltop))
    gwen = person(store, "gwen.group@example.com")
    page = admin.get(f"/dashboard/staff/{gwen}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "1 other dealership you don't manage" in text and "Hilltop" not in text
    assert "/disable" not in text
    listed = admin.get("/dashboard/staff")
    assert "Hilltop" not in listed.text
    before = store.snapshot()
    for action, fields in ACTIONS:
        admin.get(f"/dashboard/staff/{gwen}")
        answer = admin.post(f"/dashboard/staff/{gwen}/{action}", follow=False, **fields)
        assert answer.status_code == 403, action
    assert store.snapshot() == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/dashboard/staff/abc", 404),
        ("/dashboard/staff/-1", 404),
        ("/dashboard/staff/" + "9" * 40, 404),
        ("/dashboard/staff/999999", 404),
    ],
)
def test_a_damaged_address_is_a_clear_4xx(admin: Staff, path: str, status: int) -> None:
    answer = admin.get(path)
    assert answer.status_code == status and "Traceback" not in answer.text


def test_unknown_buttons_and_missing_tokens_change_nothing(admin: Staff, store: Store) -> None:
    manager = person(store, "manager@demo-motors.example")
    before = store.snapshot()
    admin.get(f"/dashboard/staff/{manager}")
    for path, status in (
        (f"/dashboard/staff/{manager}/delete", 400),
        ("/dashboard/staff/abc/disable", 404),
        ("/dashboard/staff/" + "9" * 40 + "/disable", 404),
    ):
        admin.get(f"/dashboard/staff/{manager}")
        assert admin.post(path, follow=False).status_code == status, path
    for action, fields in ACTIONS:
        answer = admin.client.post(
            f"/dashboard/staff/{manager}/{action}",
            data={"other": "", **fields},
            follow_redirects=False,
        )
        assert answer.status_code == 403, action
        answer = admin.client.post(
            f"/dashboard/staff/{manager}/{action}",
            data={"csrf": "wrong", **fields},
            follow_redirects=False,
        )
        assert answer.status_code == 403, action
    assert (
        admin.client.post(
            "/dashboard/staff", data={"email": "a@b.example"}, follow_redirects=False
        ).status_code
        == 403
    )
    # A disabled person can't be disabled twice or reset; an invited one can't be enabled.
    for action in ("enable", "reset-mfa"):
        admin.get(f"/dashboard/staff/{manager}")
        assert admin.post(f"/dashboard/staff/{manager}/{action}", follow=False).status_code == 400
    assert store.snapshot() == before
