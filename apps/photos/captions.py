"""#tags and @mentions in captions."""

from __future__ import annotations

import re

# A tag is a word after '#' (letters, digits, underscores, any script); a mention, a user name.
TAG_PATTERN = r"(?<![\w#])#(?P<tag>\w{1,64})"
MENTION_PATTERN = r"(?<![\w@])@(?P<mention>[\w.+-]{0,149}[\w+-])"
TAG = re.compile(TAG_PATTERN)
# Both at once, for rendering: each match is a tag or a mention.
TOKEN = re.compile(f"{TAG_PATTERN}|{MENTION_PATTERN}")


def tags_in(caption: str) -> list[str]:
    """Distinct lower-case tag names, in order of appearance."""
    return list(dict.fromkeys(match.lower() for match in TAG.findall(caption)))
