"""Events of activities, registrations, attendance, awards and suggestions."""
from __future__ import annotations

from shared.events.envelope import isoformat

from .types import event_type

ACTIVITY_PUBLISHED = event_type("activity.published")
ACTIVITY_CANCELLED = event_type("activity.cancelled")
REGISTRATION_CONFIRMED = event_type("registration.confirmed")
REGISTRATION_WAITLISTED = event_type("registration.waitlisted")
REGISTRATION_PROMOTED = event_type("registration.promoted")
REGISTRATION_CANCELLED = event_type("registration.cancelled")
ATTENDANCE_RECORDED = event_type("attendance.recorded")
AWARD_GRANTED = event_type("award.granted")
SUGGESTION_REVIEWED = event_type("suggestion.reviewed")

ACTIVITY_TYPES = [ACTIVITY_PUBLISHED, ACTIVITY_CANCELLED, REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED,
                  REGISTRATION_PROMOTED, REGISTRATION_CANCELLED, ATTENDANCE_RECORDED, AWARD_GRANTED,
                  SUGGESTION_REVIEWED]


def activity_data(activity) -> dict:
    return {"activity_id": str(activity.pk), "title": activity.title, "kind": activity.kind,
            "organiser_id": activity.organiser_id,
            "audience": {"org_id": activity.audience_org_id, "genders": list(activity.audience_genders),
                         "employment_types": list(activity.audience_employment_types),
                         "honours": list(activity.audience_honours)},
            "starts_at": isoformat(activity.starts_at), "ends_at": isoformat(activity.ends_at),
            "venue": activity.venue, "registration_closes_at": isoformat(activity.registration_closes_at),
            "capacity": activity.capacity, "version": activity.version}


def activity_cancelled(activity) -> dict:
    return {**activity_data(activity), "reason": activity.cancel_reason}


def registration_data(registration, activity, by: str) -> dict:
    return {"registration_id": str(registration.pk), "activity_id": str(activity.pk),
            "member_id": registration.member_id, "title": activity.title,
            "starts_at": isoformat(activity.starts_at), "venue": activity.venue, "status": registration.status,
            "ticket": registration.ticket, "by": by, "version": registration.version}


def attendance_recorded(registration, kind: str = "activity") -> dict:
    return {"member_id": registration.member_id, "activity_id": str(registration.activity_id), "kind": kind,
            "attended_at": isoformat(registration.checked_in_at)}


def award_granted(registration, activity) -> dict:
    return {"award_id": str(registration.pk), "activity_id": str(activity.pk), "member_id": registration.member_id,
            "activity_title": activity.title, "award": registration.award, "honour": registration.honour,
            "granted_at": isoformat(registration.awarded_at)}


def suggestion_reviewed(suggestion) -> dict:
    return {"suggestion_id": str(suggestion.pk), "member_id": suggestion.member_id, "title": suggestion.title,
            "adopted": suggestion.status == "adopted", "reward_fen": suggestion.reward_fen,
            "reviewed_at": isoformat(suggestion.reviewed_at)}
