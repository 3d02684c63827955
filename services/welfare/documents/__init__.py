"""The Documents the welfare service owns, in its own database."""
from __future__ import annotations

from .assistance import Application, Step
from .condolences import Campaign, LifeEventPayment, Visit
from .funds import Budget, ImmutableEntry, LedgerEntry
from .hardship import DetailsAccess, FileStep, HardshipFile, Objection
from .mutual_aid import Enrolment
from .policies import LifeEventSchedule, MutualAidScheme, Policy
from .views import ALIAS, MemberView, OrgView

ALL = [MemberView, OrgView, Policy, Budget, LedgerEntry, Application, HardshipFile, Objection, DetailsAccess,
       LifeEventSchedule, MutualAidScheme, Campaign, Visit, LifeEventPayment, Enrolment]
OUTBOX_DOCUMENTS = [Application, HardshipFile, Objection, Visit, LifeEventPayment]
# (document, field) holding copies of organisation paths, rewritten by the worker when a subtree moves
PATH_COPIES = [(MemberView, "org_path"), (OrgView, "path"), (Budget, "org_path"),
               (Application, "org_path"), (HardshipFile, "org_path"), (Objection, "org_path"),
               (Campaign, "org_path"), (Visit, "org_path"), (LifeEventPayment, "org_path"), (Enrolment, "org_path")]

__all__ = ["ALIAS", "ALL", "OUTBOX_DOCUMENTS", "PATH_COPIES", "Application", "Budget", "Campaign", "DetailsAccess",
           "Enrolment", "FileStep", "HardshipFile", "ImmutableEntry", "LedgerEntry", "LifeEventPayment",
           "LifeEventSchedule", "MemberView", "MutualAidScheme", "Objection", "OrgView", "Policy", "Step", "Visit"]
