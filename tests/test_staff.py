"""Staff account security, pure: passwords, TOTP, recovery codes, roles and sessions.

No web, no database: each function is called as the dashboard will call it, with the clock
passed in. pyotp appears only to compute the codes an authenticator app would show.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import string
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit

import argon2
import pyotp
import pytest
from lxml import etree

from resume.staff import passwords, recovery, roles, sessions, totp
from resume.staff.passwords import check_new_password, hash_password, verify_password

# --- passwords ---------------------------------------------------------------------------

TOO_SHORT = (
    "Use at least 12 characters. A few unrelated words make a password "
    "that is long and easy to remember."
)
TOO_LONG = "Use at most 256 characters."
REPEATED = "Don't use one character repeated: it is among the first things tried."
EMAIL = "Don't use your email address, or part of it, in your password."
COMMON = "This is one of the most common passwords, so it is among the first tried."


def test_a_password_verifies_against_its_hash_and_no_other() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not verify_password(stored, "")
    # A fresh salt each time: equal passwords don't give equal rows.
    assert hash_password("correct horse battery staple") != stored
    assert not passwords.needs_rehash(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "nonsense",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ",  # cut short
        "$argon2id$v=19$m=65536,t=3,p=4$é$é",
    ],
)
def test_a_malformed_or_foreign_hash_is_a_no_not_an_error(stored: str) -> None:
    assert verify_password(stored, "correct horse battery staple") is False
    assert passwords.needs_rehash(stored) is True


def test_a_hash_made_with_weaker_parameters_asks_to_be_redone() -> None:
    # OWASP's minimum, below what we use today.
    weak = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    stored = weak.hash("correct horse battery staple")
    assert verify_password(stored, "correct horse battery staple")
    assert passwords.needs_rehash(stored)


def test_the_dummy_hash_costs_what_a_real_one_costs_and_opens_for_nothing() -> None:
    real = argon2.extract_parameters(hash_password("correct horse battery staple"))
    assert argon2.extract_parameters(passwords.DUMMY_HASH) == real
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    assert verify_password(passwords.DUMMY_HASH, "correct horse battery staple") is False
    assert verify_password(passwords.DUMMY_HASH, "") is False


def test_a_password_typed_in_another_unicode_form_still_matches() -> None:
    composed = "café crème brûlée"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert verify_password(hash_password(composed), decomposed)
    # NFKC folds full-width letters too, as some phone keyboards type them.
    assert verify_password(hash_password("Ｐａｓｓｐｈｒａｓｅ ｏｎｅ"), "Passphrase one")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", TOO_SHORT),
        ("eleven char", TOO_SHORT),
        ("x" * 257 + "y", TOO_LONG),
        ("aaaaaaaaaaaaaaaa", REPEATED),
        (" " * 20, REPEATED),
        ("qwerty123456", COMMON),
        ("QwErTy123456", COMMON),
        ("1qaz2wsx3edc", COMMON),
        ("leavemealone", COMMON),
    ],
)
def test_a_weak_new_password_is_refused_with_a_reason(text: str, message: str) -> None:
    assert check_new_password(text) == message


def test_a_password_holding_the_email_name_is_refused() -> None:
    email = "Maria.Lopez@example.com"
    assert check_new_password("my name is MARIA.LOPEZ!", email=email) == EMAIL
    assert check_new_password("maria.lopez", email=email) == TOO_SHORT
    # Only the part before the @ counts, and only when it is long enough to mean something.
    assert check_new_password("example.com is my dealer", email=email) is None
    assert check_new_password("bob likes bobsledding", email="bob@example.com") is None
    assert check_new_password("robert likes bobsledding", email="robert@example.com") == EMAIL


def test_a_good_passphrase_is_accepted() -> None:
    assert check_new_password("correct horse battery staple") is None
    assert check_new_password("Tangerine-Ladder-Quietly-41", email="maria@example.com") is None


def test_length_counts_code_points_after_nfkc() -> None:
    # U+FB03 is the "ffi" ligature: one code point, three after NFKC.
    assert len("\ufb03" * 4) == 4
    assert check_new_password("\ufb03" * 4) is None
    # "e" and a combining acute compose to one "é": 12 code points typed, 11 counted.
    eleven = "glacier" + "cafe\u0301"
    assert len(eleven) == 12
    assert check_new_password(eleven) == TOO_SHORT
    assert check_new_password("glaciers" + "cafe\u0301") is None
    # An emoji is one code point (two UTF-16 units, four UTF-8 bytes).
    assert check_new_password("🔑" * 10 + "k") == TOO_SHORT
    assert check_new_password("🔑" * 11 + "k") is None


def test_the_longest_password_allowed_is_256_characters() -> None:
    longest = (string.ascii_letters * 5)[:256]
    assert check_new_password(longest) is None
    assert check_new_password(longest + "!") == TOO_LONG


# --- TOTP --------------------------------------------------------------------------------

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Ten seconds into a time step, so that one step either side is a whole step away.
NOW = 30 * 56_666_666 + 10
STEP = NOW // 30


def code_at(step: int) -> str:
    """What an authenticator app shows during `step`."""
    return pyotp.TOTP(SECRET).at(step * 30)


def test_the_rfc_6238_test_vector_holds() -> None:
    # RFC 6238 appendix B: key "12345678901234567890", SHA-1, T=59 s gives 94287082 at 8
    # digits, so 287082 at 6: our steps, digest and truncation are the standard's.
    secret = base64.b32encode(b"12345678901234567890").decode("ascii")
    assert totp.verify(secret, "287082", last_step=None, now=59) == 1


def test_the_current_code_is_accepted_and_its_step_returned() -> None:
    assert totp.verify(SECRET, code_at(STEP), last_step=None, now=NOW) == STEP


def test_a_code_one_step_either_side_is_accepted_for_clock_drift() -> None:
    assert totp.verify(SECRET, code_at(STEP - 1), last_step=None, now=NOW) == STEP - 1
    assert totp.verify(SECRET, code_at(STEP + 1), last_step=None, now=NOW) == STEP + 1


def test_a_code_two_steps_away_is_refused() -> None:
    assert totp.verify(SECRET, code_at(STEP - 2), last_step=None, now=NOW) is None
    assert totp.verify(SECRET, code_at(STEP + 2), last_step=None, now=NOW) is None


def test_a_code_already_used_in_its_step_is_refused() -> None:
    used = totp.verify(SECRET, code_at(STEP), last_step=None, now=NOW)
    assert used == STEP
    assert totp.verify(SECRET, code_at(STEP), last_step=used, now=NOW + 5) is None
    # Nor an older code still inside the drift window.
    assert totp.verify(SECRET, code_at(STEP - 1), last_step=used, now=NOW + 5) is None


def test_a_later_code_after_a_used_one_is_accepted() -> None:
    assert totp.verify(SECRET, code_at(STEP + 1), last_step=STEP, now=NOW + 30) == STEP + 1
    # The drift window reaches ahead too: the next step's code, typed early.
    assert totp.verify(SECRET, code_at(STEP + 1), last_step=STEP, now=NOW) == STEP + 1


def test_a_wrong_code_is_refused() -> None:
    right = code_at(STEP)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert totp.verify(SECRET, wrong, last_step=None, now=NOW) is None


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567", "12345a", "12-34-56"])
def test_a_malformed_code_is_refused(code: str) -> None:
    assert totp.verify(SECRET, code, last_step=None, now=NOW) is None


def test_spaces_in_a_right_code_are_ignored() -> None:
    right = code_at(STEP)
    typed = f" {right[:3]} {right[3:]} "
    assert totp.verify(SECRET, typed, last_step=None, now=NOW) == STEP


def test_the_right_code_in_other_digits_is_refused() -> None:
    # Arabic-Indic digits are digits to str.isdigit, but no app shows them.
    arabic = code_at(STEP).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert totp.verify(SECRET, arabic, last_step=None, now=NOW) is None


def test_a_new_secret_holds_160_random_bits_in_base32() -> None:
    secret = totp.new_secret()
    assert re.fullmatch("[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20
    assert totp.new_secret() != secret


def test_the_provisioning_uri_names_the_account_and_the_issuer() -> None:
    uri = totp.provisioning_uri(SECRET, "maria@example.com", "Main St Motors")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Main St Motors:maria@example.com"
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Main St Motors"]
    # SHA-1, 6 digits and 30 s are what apps assume when the URI doesn't say.
    assert not {"algorithm", "digits", "period"} & set(query)


def test_the_secret_is_shown_in_groups_of_four() -> None:
    shown = totp.format_secret(SECRET)
    assert shown == "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    assert shown.replace(" ", "") == SECRET


def test_the_qr_is_an_inline_svg_with_a_label_and_no_script() -> None:
    # A hostile-looking account name: the QR's data is drawn, never written as markup.
    uri = totp.provisioning_uri(SECRET, '"><script>alert(1)</script>@x.com', "Main St")
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg ")
    root = etree.fromstring(svg)
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == totp.QR_LABEL
    assert root.findtext("title") == totp.QR_LABEL
    assert 150 <= int(root.get("width")) <= 260
    assert root.get("width") == root.get("height")
    assert "script" not in svg.lower()
    for element in root.iter():
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        assert etree.QName(element).localname in {"svg", "title", "g", "path"}


# --- recovery codes ----------------------------------------------------------------------


def test_ten_distinct_recovery_codes_are_made_in_groups() -> None:
    codes = recovery.new_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    group = f"[{recovery.ALPHABET}]{{4}}"
    for code in codes:
        assert re.fullmatch(f"{group}-{group}-{group}-{group}", code)
    assert len(recovery.new_codes(count=3)) == 3


def test_a_recovery_code_holds_at_least_60_bits() -> None:
    assert len(set(recovery.ALPHABET)) == len(recovery.ALPHABET) == 32
    # Nothing that reads as another symbol.
    assert not set("ilou") & set(recovery.ALPHABET)
    length = recovery.GROUP * recovery.GROUPS
    assert len(recovery.ALPHABET) ** length >= 2**60
    assert len(recovery.ALPHABET) ** length == 2**recovery.BITS


def test_a_recovery_code_hashes_the_same_however_it_is_typed() -> None:
    code = "7k2m-9xqa-0b1c-dd4e"
    stored = recovery.code_hash(code)
    assert stored == hashlib.sha256(b"7k2m9xqa0b1cdd4e").hexdigest()
    assert len(stored) == 64
    for typed in [
        "7K2M-9XQA-0B1C-DD4E",
        " 7k2m 9xqa 0b1c dd4e ",
        "7k2m9xqa0b1cdd4e",
        "7k2m-9xqa-ObIc-dd4e",
    ]:
        assert recovery.code_hash(typed) == stored
    assert recovery.code_hash("7k2m-9xqa-0b1c-dd4f") != stored


# --- roles -------------------------------------------------------------------------------


def test_each_role_may_do_what_the_table_says() -> None:
    # every lead, reveal, reassign, audit, manage, round-robin
    expected = {
        "admin": (True, True, True, True, True, False),
        "manager": (True, True, True, False, False, False),
        "sales": (False, False, False, False, False, True),
        "bdc": (False, False, False, False, False, True),
    }
    assert list(roles.ROLES) == list(expected)
    for name, flags in expected.items():
        r = roles.role(name)
        assert r.name == name
        assert (
            r.sees_every_lead,
            r.may_reveal,
            r.may_reassign,
            r.may_read_audit,
            r.may_manage,
            r.takes_round_robin,
        ) == flags


def test_an_unknown_role_names_the_roles_there_are() -> None:
    with pytest.raises(ValueError, match="unknown role 'owner': the roles are admin, manager"):
        roles.role("owner")
    with pytest.raises(ValueError, match="sales, bdc"):
        roles.role("Admin")


# --- sessions ----------------------------------------------------------------------------

T = dt.datetime(2025, 3, 1, 15, 0, tzinfo=dt.UTC)


def ago(**delta: float) -> dt.datetime:
    return T - dt.timedelta(**delta)


def test_a_session_idle_for_thirty_minutes_is_over() -> None:
    assert sessions.expired(ago(hours=1), ago(minutes=29, seconds=59), T) is None
    assert sessions.expired(ago(hours=1), ago(minutes=30, seconds=1), T) == "idle"


def test_a_session_twelve_hours_old_is_over_however_busy() -> None:
    assert sessions.expired(ago(hours=11, minutes=59, seconds=59), ago(seconds=5), T) is None
    assert sessions.expired(ago(hours=12, seconds=1), ago(seconds=5), T) == "absolute"
    # Both at once: absolute says more, as activity wouldn't have saved it.
    assert sessions.expired(ago(hours=13), ago(hours=1), T) == "absolute"


def test_the_table_keeps_only_a_hash_of_the_session_token() -> None:
    token = sessions.new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 bytes, URL-safe base64
    assert sessions.new_token() != token
    stored = sessions.token_hash(token)
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", stored)


def test_the_cookie_is_host_only_over_https() -> None:
    assert sessions.cookie_name(secure=True) == "__Host-resume-staff"
    assert sessions.cookie_name(secure=False) == "resume-staff"


def test_a_form_csrf_token_must_match_the_session_one() -> None:
    expected = sessions.new_csrf_token()
    assert len(expected) <= 64  # staff_sessions.csrf
    assert sessions.new_csrf_token() != expected
    assert sessions.csrf_matches(expected, expected)
    assert not sessions.csrf_matches(expected, expected[:-1])
    assert not sessions.csrf_matches(expected, "")
    assert not sessions.csrf_matches(expected, "é" * 43)  # no TypeError from compare_digest
    assert not sessions.csrf_matches("", "")
