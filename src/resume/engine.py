"""The step engine: where Continue, Back, a jump or a page button sends the shopper.

It knows nothing of HTTP: it takes what was posted as a mapping of strings and says what to
store and where the shopper goes next.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from resume.definitions import Step
from resume.errors import NotFound, StepNotReached, UnknownButton
from resume.fields import Cleaned, Field, clean


class Move(msgspec.Struct, frozen=True):
    """Where a POST sends the shopper: a step name, or a page ("save", "showroom")."""

    target: str
    check: bool = False
    completes: bool = False
    # The move reaches a result step (finished or not).
    result: bool = False


def find_step(
    steps: tuple[Step, ...], name: str | None, *, fallback: int | None = None
) -> tuple[int, Step]:
    """Return the index and step named `name`; if there is none, step `fallback`, or without
    one NotFound."""
    for index, step in enumerate(steps):
        if step.name == name:
            return index, step
    if fallback is not None:
        return fallback, steps[fallback]
    raise NotFound("This form has no such step.")


def validate(fields: tuple[Field, ...], posted: Mapping[str, str]) -> dict[str, Cleaned]:
    """Clean every field of a step; a field not posted counts as empty (unticked box)."""
    return {field.name: clean(field, posted.get(field.name, "")) for field in fields}


def decide(
    steps: tuple[Step, ...],
    index: int,
    reached: int,
    action: str,
    results: Mapping[str, Cleaned],
) -> Move:
    """Say where an action on step `index` leads; only Continue looks at validity."""
    if action == "back":
        return Move(steps[max(index - 1, 0)].name)
    if action in {"save", "showroom"}:
        return Move(action)
    if action.startswith(("adopt:", "lang:")):
        # A what-if payment adopted on the result, or the language switched: this step
        # again, with the new figures or in the new words.
        return Move(steps[index].name)
    if action.startswith("goto:"):
        name = action.removeprefix("goto:")
        target, _ = find_step(steps, name)
        if target > max(reached, index):
            raise StepNotReached()
        return Move(name)
    if action == "continue":
        if any(not r.valid for r in results.values()):
            return Move(steps[index].name, check=True)
        if index + 1 >= len(steps):
            return Move(steps[index].name, completes=True)
        following = steps[index + 1]
        result = following.kind == "result"
        return Move(following.name, completes=result and following.completes, result=result)
    raise UnknownButton()
