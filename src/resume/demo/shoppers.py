"""The demo shoppers of Demo Motors: what each typed, step by step, how long ago they left,
and what the team did since. Values are what a shopper would type, valid or not."""

from __future__ import annotations

from typing import Any

VEHICLE = {
    "condition": "new",
    "year": "2025",
    "make": "Toyota",
    "model": "RAV4",
    "trim": "XLE",
    "stock_number": "DM2451",
    "price": "34,250",
}
PLAN = {"plan": "finance", "credit": "good"}
NUMBERS = {"down_payment": "3,000", "trade_value": "", "trade_payoff": "", "term": "60"}
CAR = {"vin": "", "year": "2019", "make": "Honda", "model": "CR-V", "trim": "EX"}
CONDITION = {"mileage": "61,000", "grade": "good"}
HISTORY = {"accident": "none", "warning_lights": "no"}
CAR_DETAILS = {"smoked": "no", "keys": "two", "modifications": "no"}
OWNED = {
    "ownership": "finance",
    "lender": "Ally",
    "payoff": "9,500",
    "lease_months_left": "",
    "buyout": "",
}
ABOUT = {"first_name": "", "last_name": "", "birthdate": "03/14/1990", "phone": ""}


def _later(email: str) -> tuple[str, dict[str, str]]:
    return "save", {"email": email, "consent_followup": "yes"}


# Each demo shopper: widget, the steps saved in order, hours since they left, and what the team
# did since (attempts as channel/outcome, a status). Values are what a shopper would type.
SHOPPERS: list[dict[str, Any]] = [
    {
        "widget": "payment",
        "hours": 0.3,
        "steps": [
            ("vehicle", VEHICLE),
            ("plan", PLAN),
            ("numbers", NUMBERS),
            _later("pat.lee@example.com"),
        ],
        "name": ("Pat", "Lee"),
    },
    {
        "widget": "payment",
        "hours": 3,
        "steps": [
            ("vehicle", {**VEHICLE, "model": "Camry", "trim": "SE", "price": "29,900"}),
            ("plan", PLAN),
            ("numbers", {**NUMBERS, "down_payment": "zero"}),
            _later("maria.g@example.com"),
        ],
        "name": ("Maria", ""),
    },
    {
        "widget": "payment",
        "hours": 26,
        "steps": [
            (
                "vehicle",
                {
                    **VEHICLE,
                    "condition": "used",
                    "year": "2022",
                    "model": "Highlander",
                    "price": "38,400",
                },
            ),
            ("plan", PLAN),
            ("numbers", {**NUMBERS, "term": "84"}),
            _later("sam.ortiz@example.com"),
        ],
        "attempts": [("call", "voicemail"), ("email", "no_answer")],
        "name": ("Sam", "Ortiz"),
    },
    {
        "widget": "payment",
        "hours": 50,
        "steps": [
            ("vehicle", VEHICLE),
            ("plan", {**PLAN, "plan": "lease"}),
            ("numbers", {**NUMBERS, "term": "36"}),
            _later("jordan.k@example.com"),
        ],
        "attempts": [("call", "reached")],
        "status": "appointment_set",
        "name": ("Jordan", "Kim"),
    },
    {
        "widget": "trade-in",
        "hours": 1,
        "steps": [
            ("vehicle", CAR),
            ("condition", CONDITION),
            ("history", HISTORY),
            ("details", CAR_DETAILS),
            ("ownership", OWNED),
            (
                "contact",
                {
                    "timeline": "this_week",
                    "first_name": "Dana",
                    "last_name": "Okafor",
                    "email": "dana.o@example.com",
                    "phone": "(217) 555-0188",
                    "consent_followup": "yes",
                },
            ),
        ],
        "name": ("Dana", "Okafor"),
    },
    {
        "widget": "trade-in",
        "hours": 5,
        "steps": [
            ("vehicle", {**CAR, "model": "Civic", "year": "2016"}),
            ("condition", {**CONDITION, "mileage": ""}),
            _later("lee.nguyen@example.com"),
        ],
        "name": ("Lee", ""),
    },
    {
        "widget": "trade-in",
        "hours": 30,
        "steps": [
            ("vehicle", {**CAR, "make": "Ford", "model": "F-150", "trim": "XLT"}),
            ("condition", CONDITION),
            ("history", HISTORY),
            ("details", CAR_DETAILS),
            ("ownership", {**OWNED, "payoff": ""}),
            _later("chris.b@example.com"),
        ],
        "attempts": [("text", "replied")],
        "status": "contacted",
        "name": ("Chris", ""),
    },
    {
        "widget": "trade-in",
        "hours": 72,
        "steps": [
            ("vehicle", CAR),
            ("condition", CONDITION),
            ("history", HISTORY),
            ("details", CAR_DETAILS),
            ("ownership", OWNED),
            (
                "contact",
                {
                    "timeline": "this_month",
                    "first_name": "Alex",
                    "last_name": "Rivera",
                    "email": "alex.r@example.com",
                    "phone": "",
                    "consent_followup": "yes",
                },
            ),
        ],
        "attempts": [("call", "reached")],
        "status": "lost",
        "name": ("Alex", "Rivera"),
    },
    {
        "widget": "credit",
        "hours": 2,
        "steps": [
            (
                "about",
                {
                    **ABOUT,
                    "first_name": "Robin",
                    "last_name": "Hale",
                    "email": "robin.h@example.com",
                    "phone": "(217) 555-0131",
                    "consent_followup": "yes",
                },
            ),
            (
                "address",
                {
                    "street": "400 Oak Street",
                    "city": "Springfield",
                    "state": "IL",
                    "zip": "62704",
                },
            ),
            ("home", {"years_at_address": "3", "housing": "rent", "housing_payment": "1,150"}),
        ],
        "name": ("Robin", "Hale"),
    },
    {
        "widget": "credit",
        "hours": 20,
        "steps": [
            (
                "about",
                {
                    **ABOUT,
                    "first_name": "Taylor",
                    "last_name": "Brooks",
                    "email": "taylor.b@example.com",
                    "phone": "",
                    "consent_followup": "yes",
                },
            ),
            (
                "address",
                {
                    "street": "18 Elm Court",
                    "city": "Chatham",
                    "state": "IL",
                    "zip": "62629",
                },
            ),
            ("home", {"years_at_address": "1", "housing": "own", "housing_payment": "1,600"}),
            (
                "income",
                {
                    "employment": "employed",
                    "employer": "",
                    "years_at_job": "2",
                    "monthly_income": "",
                },
            ),
        ],
        "attempts": [("call", "no_answer")],
        "name": ("Taylor", "Brooks"),
    },
    {
        "widget": "credit",
        "hours": 44,
        "steps": [
            (
                "about",
                {
                    **ABOUT,
                    "first_name": "Morgan",
                    "last_name": "Ellis",
                    "email": "morgan.e@example.com",
                    "phone": "(217) 555-0170",
                    "consent_followup": "",
                },
            )
        ],
        "name": ("Morgan", "Ellis"),
    },
    {
        "widget": "payment",
        "hours": 90,
        "steps": [
            ("vehicle", {**VEHICLE, "model": "Tacoma", "trim": "TRD", "price": "41,800"}),
            ("plan", PLAN),
            ("numbers", NUMBERS),
            _later("casey.w@example.com"),
        ],
        "attempts": [("call", "reached"), ("visit", "reached")],
        "status": "sold",
        "name": ("Casey", "Wu"),
    },
]
