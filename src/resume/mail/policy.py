"""The email package's policy, made cheaper: header classes made once, repeated headers folded
once, and a MIME boundary chosen where both parts are known. The bytes on the wire are the
same as with the default policy.
"""

from __future__ import annotations

import random
import sys
from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import default as default_policy
from typing import Any

# The stdlib's email package with its default policy is most of the cost of a message (issue #4
# bench: about 70 % of building and sending one, against 3 % for the templates). Two costs in
# it repeat for nothing, and the header factory below removes them; the bytes on the wire are
# the same:
# - HeaderRegistry makes a new class, with type(), every time it parses a header;
# - every message parses and folds again the headers whose values are the same each time (the
#   dealer's From and Reply-To, MIME-Version, the parts' Content-Type and -Transfer-Encoding,
#   the Date of every message sent in the same second).


class _FoldedOnce(BaseHeader):
    """A parsed header that keeps its folded text per set of line rules: folding is pure."""

    def fold(self, *, policy: Any) -> str:
        key = (type(policy), policy.linesep, policy.utf8, policy.max_line_length)
        folded: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_folded", {})
        text = folded.get(key)
        if text is None:
            text = folded[key] = super().fold(policy=policy)
        return text


class _HeaderFactory(HeaderRegistry):
    """The default header factory, with its classes made once and repeated values parsed once.

    Header objects are immutable (a message replaces a header, never changes one), so one
    object can sit in many messages.
    """

    REPEATED = frozenset(
        {
            "from",
            "reply-to",
            "mime-version",
            "content-type",
            "content-transfer-encoding",
            "list-unsubscribe-post",
            "date",  # to the second: the same for every message sent in that second
        }
    )
    KEEP = 1024  # distinct values kept: a few per dealer, and the last minutes' dates

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)
        self._classes: dict[str, Any] = {}
        self._parsed: dict[tuple[str, str], Any] = {}

    def map_to_type(self, name: str, cls: Any) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()
        self._parsed.clear()

    def __getitem__(self, name: str) -> Any:
        cls = self._classes.get(name.lower())
        if cls is None:
            cls = self._classes[name.lower()] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> Any:
        lowered = name.lower()
        # A multipart's Content-Type carries its own random boundary: never seen twice.
        if lowered not in self.REPEATED or not isinstance(value, str) or "boundary" in value:
            return self[name](name, value)
        header = self._parsed.get((name, value))
        if header is None:
            if len(self._parsed) >= self.KEEP:
                self._parsed.clear()
            header = self._parsed[name, value] = self[name](name, value)
        return header

    def __deepcopy__(self, memo: dict[int, Any]) -> _HeaderFactory:
        return self  # shared, like the policy constants it stands in for


POLICY = default_policy.clone(header_factory=_HeaderFactory())


def boundary(*texts: str) -> str:
    """Return a MIME boundary in the generator's own format that none of the texts contains."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if not any(boundary in text for text in texts):
            return boundary
