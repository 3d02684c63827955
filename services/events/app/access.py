"""Who may see what: the scope every read-model service shares (``shared.readscope``), under the names
the use cases call."""
from __future__ import annotations

from shared.readscope import (  # noqa: F401 (the use cases' names)
    acting_member,
    check_caller,
    is_staff,
    me,
    member,
    object_id,
    org_path,
    own_path,
    require_staff,
    sees,
    staff_org,
)
