"""#tags and @mentions in captions."""

from __future__ import annotations

import re

# A tag is a word after '#': letters, digits and underscores, in any script.
TAG = re.compile(r"(?<![\w#])#(\w{1,64})", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})", re.UNICODE)


def tags_in(caption: str) -> list[str]:
    """Distinct lower-case tag names, in order of appearance."""
    return list(dict.fromkeys(match.lower() for match in TAG.findall(caption)))


def mentions_in(caption: str) -> list[str]:
    return list(dict.fromkeys(MENTION.findall(caption)))
