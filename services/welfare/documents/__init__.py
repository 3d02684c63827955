"""The Documents the welfare service owns, in its own database."""
from __future__ import annotations

from .assistance import Application, Step
from .funds import Budget, ImmutableEntry, LedgerEntry
from .hardship import DetailsAccess, FileStep, HardshipFile, Objection
from .policies import Policy
from .views import ALIAS, MemberView, OrgView

ALL = [MemberView, OrgView, Policy, Budget, LedgerEntry, Application, HardshipFile, Objection, DetailsAccess]
OUTBOX_DOCUMENTS = [Application, HardshipFile, Objection]
# (document, field) holding copies of organisation paths, rewritten by the worker when a subtree moves
PATH_COPIES = [(MemberView, "org_path"), (OrgView, "path"), (Budget, "org_path"),
               (Application, "org_path"), (HardshipFile, "org_path"), (Objection, "org_path")]

__all__ = ["ALIAS", "ALL", "OUTBOX_DOCUMENTS", "PATH_COPIES", "Application", "Budget", "DetailsAccess", "FileStep",
           "HardshipFile", "ImmutableEntry", "LedgerEntry", "MemberView", "Objection", "OrgView", "Policy", "Step"]
