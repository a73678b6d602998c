"""Where the templates, widget definitions and migrations are, installed or in a checkout."""

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    """Return the folder holding templates/, widgets/ and alembic/."""
    installed = Path(__file__).parent / "_data"
    if (installed / "templates").is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "templates").is_dir():
        return checkout
    raise RuntimeError(
        f"templates/ not found in {installed} nor {checkout}: reinstall resume-leads"
    )
