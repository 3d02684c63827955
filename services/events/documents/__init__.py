"""The Documents the events service owns, in its own database."""
from __future__ import annotations

from .activities import Activity, Registration
from .congress import CONGRESS_DOCUMENTS, CONGRESS_PATH_COPIES
from .suggestions import Suggestion
from .views import ALIAS, MemberView, OrgView

ALL = [MemberView, OrgView, Activity, Registration, Suggestion, *CONGRESS_DOCUMENTS]
OUTBOX_DOCUMENTS = [Activity, Registration, Suggestion,
                    *(d for d in CONGRESS_DOCUMENTS if hasattr(d, "update_with_events"))]
# (document, field) holding copies of organisation paths, rewritten by the worker when a subtree moves
PATH_COPIES = [(MemberView, "org_path"), (OrgView, "path"), (Activity, "org_path"), (Registration, "org_path"),
               (Suggestion, "org_path"), *CONGRESS_PATH_COPIES]

__all__ = ["ALIAS", "ALL", "OUTBOX_DOCUMENTS", "PATH_COPIES", "Activity", "MemberView", "OrgView", "Registration",
           "Suggestion"]
