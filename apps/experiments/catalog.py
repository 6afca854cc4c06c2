"""The experiments the site's code asks for, as the UX team designed them.

The code only names a key and the variants it can show (``variant_for(request, key)``); the
experiment itself is created, started and stopped by the UX team in the admin.
``manage.py load_site_experiments`` creates these as drafts so there is something to start.
"""

from __future__ import annotations

from typing import Any

SITE_EXPERIMENTS: list[dict[str, Any]] = [
    {
        "key": "home-feed-layout",
        "name": "Home feed: grid or one photo per row",
        "hypothesis": "Showing one large photo per row makes people look at each photo longer, "
        "so more of them like at least one photo.",
        "audience": "signed_in",
        "primary_metric": "liked_photo",
        "guardrail_metrics": ["photos_uploaded", "commented"],
        "variants": [
            {"key": "grid", "name": "Grid (today)", "weight": 50, "is_control": True},
            {"key": "list", "name": "One photo per row", "weight": 50},
        ],
    },
    {
        "key": "home-upload-prompt",
        "name": "Home feed: invitation to upload",
        "hypothesis": "An invitation above the feed gets more people to upload a photo.",
        "audience": "signed_in",
        "primary_metric": "uploaded_photo",
        "guardrail_metrics": ["liked_photo"],
        "variants": [
            {"key": "none", "name": "No invitation (today)", "weight": 50, "is_control": True},
            {
                "key": "card",
                "name": "Invitation card",
                "weight": 50,
                "config": {"headline": "Got a photo you love?", "button": "Upload a photo"},
            },
        ],
    },
]
