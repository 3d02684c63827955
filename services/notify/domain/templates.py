"""Message templates: one per event type, each with an inbox, an email and an SMS text, zh-CN first with
an English fallback, filled from the event's data (and what notify's read models add: the recipient's
name, organisation names). Times are shown in Asia/Shanghai, money in yuan. Plain Python."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
LANGUAGES = ("zh-CN", "en")
CHANNELS = ("inbox", "email", "sms")

# categories a member may switch per channel; the mandatory ones cannot be switched off
CATEGORIES = ("membership", "activities", "congress", "assistance", "welfare", "notices", "awards", "suggestions",
              "transfers", "announcements")
MANDATORY = frozenset({"congress", "assistance", "notices"})

MEMBER, ORG = "member", "org"  # who reads the message: the member concerned, or the staff of an organisation

_KINDS = {  # codes in events, shown as words
    "medical_aid": ("医疗救助", "medical aid"), "living_subsidy": ("生活补助", "living subsidy"),
    "education_aid": ("助学救助", "education aid"), "mutual_aid": ("互助保障", "mutual aid"),
    "education_grant": ("助学金", "education grant"), "emergency_aid": ("临时救助", "emergency aid"),
    "marriage": ("结婚慰问", "marriage"), "childbirth": ("生育慰问", "childbirth"),
    "hospitalisation": ("住院慰问", "hospitalisation"), "retirement": ("退休慰问", "retirement"),
    "bereavement": ("丧葬慰问", "bereavement"), "spring_festival_warmth": ("春节送温暖", "Spring Festival visit"),
    "summer_cooling": ("夏季送清凉", "summer cooling visit"), "sick_visit": ("探望慰问", "sick visit"),
    "other": ("慰问", "visit"),
    "approved": ("通过", "approved"), "rejected": ("不予通过", "rejected"), "declined": ("不予通过", "declined"),
    "motion": ("议案表决", "motion"), "election": ("选举", "election"),
    "suspend": ("暂停会籍", "membership suspended"), "reinstate": ("恢复会籍", "membership reinstated"),
    "keep": ("保留会籍", "membership kept"), "end_keep": ("结束保留会籍", "membership no longer kept"),
    "active": ("正常", "active"), "suspended": ("暂停", "suspended"), "left": ("已退会", "left"),
}


@dataclass(frozen=True)
class Template:
    event_type: str
    category: str
    audience: str  # MEMBER or ORG
    title: dict[str, str]
    body: dict[str, str]
    sms: dict[str, str] = field(default_factory=dict)  # falls back to the title


@dataclass(frozen=True)
class Rendered:
    channel: str
    language: str
    title: str  # the inbox title, the email subject (empty for SMS)
    body: str


class _Values(dict):
    """A missing value renders empty rather than failing a delivery."""

    def __missing__(self, key):
        return ""


def local_time(value, language: str = "zh-CN") -> str:
    """An ISO 8601 moment (or datetime) shown in Asia/Shanghai; a date stays a date."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        if len(value) == 10:
            value = date.fromisoformat(value)
        else:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI)
        return (f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" if language == "zh-CN"
                else f"{local:%Y-%m-%d %H:%M} (Beijing time)")
    return f"{value.year}年{value.month}月{value.day}日" if language == "zh-CN" else value.isoformat()


def yuan(fen) -> str:
    if fen is None:
        return ""
    return f"{fen // 100:,}.{fen % 100:02d}"


def _word(code, language: str) -> str:
    zh, en = _KINDS.get(code, (code, code)) if code is not None else ("", "")
    return zh if language == "zh-CN" else en


def values(data: dict, language: str = "zh-CN", extra: dict | None = None) -> _Values:
    """The event's fields with shown forms added: ``x_local`` for each moment or date, ``amount`` for
    ``amount_fen`` (and ``reward`` for ``reward_fen``), ``x_word`` for codes, joined lists, yes/no words."""
    zh = language == "zh-CN"
    out = _Values({key: "" if value is None else value for key, value in data.items()})
    for key, value in data.items():
        if key.endswith(("_at", "_on")) and isinstance(value, str):
            out[f"{key}_local"] = local_time(value, language)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[f"{key}_text"] = ("；" if zh else "; ").join(value)
        elif isinstance(value, bool):
            out[f"{key}_word"] = ("是" if value else "否") if zh else ("yes" if value else "no")
    for key in ("kind", "campaign_kind", "decision", "action", "status", "from_status"):
        if key in data:
            out[f"{key}_word"] = _word(data[key], language)
    if "amount_fen" in data:
        out["amount"] = yuan(data["amount_fen"])
    if "reward_fen" in data:
        out["reward"] = yuan(data["reward_fen"])
    if "passed" in data:
        out["result"] = ("通过" if data["passed"] else "未通过") if zh else ("passed" if data["passed"] else "not passed")
    if "adopted" in data:
        out["result"] = ("已采纳" if data["adopted"] else "未采纳") if zh else (
            "adopted" if data["adopted"] else "not adopted")
    if "tally" in data and isinstance(data["tally"], dict):
        t = data["tally"]
        out["tally_text"] = (f"赞成 {t.get('yes', 0)}，反对 {t.get('no', 0)}，弃权 {t.get('abstain', 0)}" if zh
                             else f"yes {t.get('yes', 0)}, no {t.get('no', 0)}, abstain {t.get('abstain', 0)}")
    out.update(extra or {})
    name = out.get("name")
    out["greeting"] = (f"{name}，您好！" if zh else f"Dear {name}, ") if name else ("您好！" if zh else "Hello, ")
    return out


def _t(event_type, category, audience, title_zh, body_zh, title_en, body_en, sms_zh=None, sms_en=None):
    sms = {}
    if sms_zh:
        sms["zh-CN"] = sms_zh
    if sms_en:
        sms["en"] = sms_en
    return Template(event_type, category, audience, {"zh-CN": title_zh, "en": title_en},
                    {"zh-CN": body_zh, "en": body_en}, sms)


E, W, M = "gonghui.events.", "gonghui.welfare.", "gonghui.members."

_ALL = [
    # members
    _t(M + "member.joined", "membership", MEMBER, "欢迎加入工会",
       "{greeting}欢迎您加入{org_name}。您的会员证号为 {card_no}。工会是职工之家，有困难找工会，我们将竭诚为您服务。",
       "Welcome to the union", "{greeting}welcome to {org_name}. Your membership card number is {card_no}."),
    _t(M + "member.status_changed", "membership", MEMBER, "会籍状态变更：{status_word}",
       "{greeting}您的会籍状态已由“{from_status_word}”变更为“{status_word}”（{action_word}）。{reason}",
       "Membership status changed: {status_word}",
       "{greeting}your membership status changed from {from_status_word} to {status_word} ({action_word}). {reason}"),
    _t(M + "transfer.requested", "transfers", ORG, "会员转入申请待处理",
       "有一名会员申请由{from_org_name}转入本会（{to_org_name}），申请时间 {requested_at_local}，"
       "请在 {expires_at_local} 前处理。",
       "Transfer request to decide",
       "A member asks to transfer from {from_org_name} to {to_org_name} (asked {requested_at_local}); "
       "please decide before {expires_at_local}."),
    _t(M + "transfer.accepted", "transfers", MEMBER, "会籍转移已接收",
       "{greeting}您转入{to_org_name}的申请已于 {decided_at_local} 被接收。",
       "Transfer accepted", "{greeting}your transfer to {to_org_name} was accepted on {decided_at_local}."),
    _t(M + "transfer.declined", "transfers", MEMBER, "会籍转移未被接收",
       "{greeting}您转入{to_org_name}的申请未被接收。原因：{reason}",
       "Transfer declined", "{greeting}your transfer to {to_org_name} was declined. Reason: {reason}"),
    _t(M + "transfer.expired", "transfers", MEMBER, "会籍转移申请已过期",
       "{greeting}您转入{to_org_name}的申请在 {expires_at_local} 前未获处理，已过期。",
       "Transfer expired", "{greeting}your transfer to {to_org_name} was not decided by {expires_at_local}."),
    _t(M + "review.opened", "membership", ORG, "会员教育待处理（{evaluated_month}）",
       "一名会员连续六个月（{window_text}）未参加组织生活，请本会工作人员在 {evaluated_month} 内进行教育谈话。",
       "Membership review to hold ({evaluated_month})",
       "A member took part in nothing for six months ({window_text}); staff should hold a talk in "
       "{evaluated_month}."),
    # events: activities
    _t(E + "registration.confirmed", "activities", MEMBER, "报名成功：{title}",
       "{greeting}您已成功报名“{title}”。活动时间：{starts_at_local}，地点：{venue}，报名序号 {ticket}。",
       "Registered: {title}", "{greeting}you are registered for {title} on {starts_at_local} at {venue} "
       "(ticket {ticket}).",
       "【工会】您已报名“{title}”，{starts_at_local}，{venue}。"),
    _t(E + "registration.waitlisted", "activities", MEMBER, "已进入候补：{title}",
       "{greeting}“{title}”名额已满，您已进入候补名单（序号 {ticket}）。有空位时将按顺序递补并通知您。",
       "Waitlisted: {title}", "{greeting}{title} is full; you are on the waiting list (ticket {ticket})."),
    _t(E + "registration.promoted", "activities", MEMBER, "候补转正：{title}",
       "{greeting}您已由候补转为正式报名“{title}”。活动时间：{starts_at_local}，地点：{venue}。",
       "A place for you: {title}", "{greeting}a place came free: you are registered for {title} on "
       "{starts_at_local} at {venue}.",
       "【工会】您已由候补转正“{title}”，{starts_at_local}，{venue}。"),
    _t(E + "registration.cancelled", "activities", MEMBER, "报名已取消：{title}",
       "{greeting}您在“{title}”（{starts_at_local}）的报名已取消。",
       "Registration cancelled: {title}", "{greeting}your registration for {title} ({starts_at_local}) is cancelled."),
    _t(E + "activity.cancelled", "activities", MEMBER, "活动取消：{title}",
       "{greeting}原定于 {starts_at_local} 在{venue}举行的“{title}”已取消。原因：{reason}",
       "Activity cancelled: {title}", "{greeting}{title}, planned for {starts_at_local} at {venue}, is cancelled. "
       "Reason: {reason}",
       "【工会】“{title}”（{starts_at_local}）已取消：{reason}"),
    _t(E + "award.granted", "awards", MEMBER, "获奖通知：{activity_title}",
       "{greeting}祝贺您在“{activity_title}”中获得{award}！", "Award: {activity_title}",
       "{greeting}congratulations on your award in {activity_title}: {award}."),
    _t(E + "suggestion.reviewed", "suggestions", MEMBER, "合理化建议评审结果：{title}",
       "{greeting}您提出的合理化建议“{title}”{result}，奖励 {reward} 元。",
       "Suggestion reviewed: {title}", "{greeting}your suggestion {title} was {result}; reward CNY {reward}."),
    # events: the workers' congress
    _t(E + "congress.session_called", "congress", MEMBER,
       "会议通知：{congress_name}第{term_number}届第{session_number}次会议",
       "{greeting}{congress_name}第{term_number}届第{session_number}次会议定于 {held_on_local} 在{venue}召开，"
       "请您作为代表准时出席。议程：{agenda_text}",
       "Congress session called: {congress_name}",
       "{greeting}session {session_number} of term {term_number} of {congress_name} meets on {held_on_local} at "
       "{venue}. Agenda: {agenda_text}",
       "【工会】{congress_name}第{term_number}届第{session_number}次会议于{held_on_local}在{venue}召开，请准时出席。"),
    _t(E + "proposal.accepted", "congress", MEMBER, "提案已立案：{title}",
       "{greeting}您的提案“{title}”已于 {accepted_at_local} 立案。",
       "Proposal accepted: {title}", "{greeting}your proposal {title} was accepted on {accepted_at_local}."),
    _t(E + "proposal.declined", "congress", MEMBER, "提案未立案：{title}",
       "{greeting}您的提案“{title}”未予立案。理由：{reason}",
       "Proposal declined: {title}", "{greeting}your proposal {title} was declined. Reason: {reason}"),
    _t(E + "proposal.answered", "congress", MEMBER, "提案已答复：{title}",
       "{greeting}{department}已答复您的提案“{title}”：{answer}",
       "Proposal answered: {title}", "{greeting}{department} answered your proposal {title}: {answer}"),
    _t(E + "ballot.closed", "congress", MEMBER, "表决结果：{title}",
       "{greeting}“{title}”表决已结束：应到代表 {delegates} 人，实际投票 {cast} 人，{tally_text}，结果：{result}。",
       "Ballot result: {title}", "{greeting}the ballot {title} closed: {delegates} delegates, {cast} voted, "
       "{tally_text}; {result}."),
    # welfare
    _t(W + "application.reviewed", "assistance", MEMBER, "救助申请已审核：{kind_word}",
       "{greeting}您的{kind_word}申请（{amount} 元）已通过初审，正在等待审批。",
       "Application reviewed: {kind_word}", "{greeting}your {kind_word} application (CNY {amount}) passed review "
       "and awaits approval."),
    _t(W + "application.approved", "assistance", MEMBER, "救助申请已批准：{kind_word}",
       "{greeting}您的{kind_word}申请已于 {decided_at_local} 批准，金额 {amount} 元。",
       "Application approved: {kind_word}", "{greeting}your {kind_word} application was approved on "
       "{decided_at_local}: CNY {amount}.",
       "【工会】您的{kind_word}申请已批准，金额{amount}元。"),
    _t(W + "application.rejected", "assistance", MEMBER, "救助申请未获批准：{kind_word}",
       "{greeting}您的{kind_word}申请未获批准。原因：{reason}",
       "Application rejected: {kind_word}", "{greeting}your {kind_word} application was rejected. Reason: {reason}",
       "【工会】您的{kind_word}申请未获批准：{reason}"),
    _t(W + "disbursement.made", "assistance", MEMBER, "救助金已发放：{kind_word}",
       "{greeting}{kind_word} {amount} 元已于 {disbursed_at_local} 发放，请注意查收。",
       "Payment made: {kind_word}", "{greeting}CNY {amount} ({kind_word}) was paid on {disbursed_at_local}.",
       "【工会】{kind_word}{amount}元已发放，请查收。"),
    _t(W + "hardship_file.decided", "assistance", MEMBER, "困难职工建档结果：{decision_word}",
       "{greeting}您的困难职工建档申请审批结果为：{decision_word}。复核日期：{review_on_local}。",
       "Hardship file decided: {decision_word}",
       "{greeting}the decision on your hardship file: {decision_word}. Next review: {review_on_local}."),
    _t(W + "notice.opened", "notices", MEMBER, "困难职工建档公示开始",
       "{greeting}您的困难职工建档信息已开始公示，公示期至 {closes_at_local}。",
       "Public notice opened", "{greeting}your hardship file is on public notice until {closes_at_local}."),
    _t(W + "notice.closed", "notices", MEMBER, "困难职工建档公示结束",
       "{greeting}您的困难职工建档公示已于 {closed_at_local} 结束，共收到异议 {objections} 件。",
       "Public notice closed", "{greeting}the public notice of your hardship file closed on {closed_at_local} "
       "with {objections} objection(s)."),
    _t(W + "life_event.paid", "welfare", MEMBER, "慰问金已发放：{kind_word}",
       "{greeting}工会{kind_word}金 {amount} 元已于 {paid_at_local} 发放，请注意查收。",
       "Payment made: {kind_word}", "{greeting}the union paid CNY {amount} ({kind_word}) on {paid_at_local}."),
    _t(W + "campaign_visit.recorded", "welfare", MEMBER, "{campaign_kind_word}慰问",
       "{greeting}工会已于 {visited_on_local} 对您进行{campaign_kind_word}慰问，慰问金 {amount} 元。感谢您的辛勤付出！",
       "{campaign_kind_word}", "{greeting}the union visited you on {visited_on_local} ({campaign_kind_word}), "
       "with CNY {amount}."),
    _t(W + "objection.lodged", "notices", ORG, "公示期收到异议",
       "困难职工建档公示收到一件异议（{lodged_at_local}），请本会工作人员核实处理。",
       "Objection lodged", "An objection to a public notice was lodged on {lodged_at_local}; staff should look "
       "into it."),
]

TEMPLATES: dict[str, Template] = {t.event_type: t for t in _ALL}

# notify's own messages, not of any producer's event: the reminders before an activity
REMINDER = "gonghui.notify.reminder."
REMINDERS: dict[str, Template] = {t.event_type: t for t in [
    _t(REMINDER + "24h", "activities", MEMBER, "活动提醒：{title}明天举行",
       "{greeting}您报名的“{title}”将于 {starts_at_local} 在{venue}举行，请合理安排时间，准时参加。",
       "Reminder: {title} tomorrow", "{greeting}{title}, which you registered for, takes place on {starts_at_local} "
       "at {venue}.",
       "【工会】提醒：您报名的“{title}”将于{starts_at_local}在{venue}举行。"),
    _t(REMINDER + "1h", "activities", MEMBER, "活动即将开始：{title}",
       "{greeting}您报名的“{title}”将于一小时后（{starts_at_local}）在{venue}开始，请准时到场签到。",
       "Starting soon: {title}", "{greeting}{title} starts in an hour ({starts_at_local}) at {venue}.",
       "【工会】提醒：“{title}”将于{starts_at_local}在{venue}开始，请准时签到。"),
]}
REMINDER_EXAMPLE = {"activity_id": "6650c0ffee000000000000c1", "title": "职工乒乓球赛",
                    "starts_at": "2026-12-05T06:00:00Z", "venue": "市职工活动中心"}

ANNOUNCEMENT_KINDS = {  # 厂务公开, 校务公开, 工会简报
    "factory_affairs": ("厂务公开", "Factory affairs"),
    "school_affairs": ("校务公开", "School affairs"),
    "newsletter": ("工会简报", "Union newsletter"),
}


def _pick(texts: dict[str, str], language: str) -> tuple[str, str]:
    for candidate in (language, "zh-CN", "en"):
        if texts.get(candidate):
            return candidate, texts[candidate]
    raise KeyError("a template without text")


def render(template: Template, channel: str, data: dict, language: str = "zh-CN",
           extra: dict | None = None) -> Rendered:
    """The template filled for one channel: the inbox shows title and body; an email has the title as
    subject and the body with a footer; an SMS is one short line (its own text, else the title)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    language, title = _pick(template.title, language)
    filled = values(data, language, extra)
    title = title.format_map(filled)
    if channel == "sms":
        if template.sms:
            _, text = _pick(template.sms, language)
            return Rendered(channel, language, "", text.format_map(filled))
        return Rendered(channel, language, "", ("【工会】" if language == "zh-CN" else "[Union] ") + title)
    _, body = _pick(template.body, language)
    body = body.format_map(filled)
    if channel == "email":
        footer = ("\n\n——本邮件由工会服务平台自动发送，请勿回复。" if language == "zh-CN"
                  else "\n\n-- Sent by the union platform; please do not reply.")
        body += footer
    return Rendered(channel, language, title, body)


def template_for(event_type: str) -> Template | None:
    return TEMPLATES.get(event_type)


def announcement(kind: str, title: str, body: str, channel: str) -> Rendered:
    """An announcement on a channel: the inbox and an email carry it whole (the email with a footer); an
    SMS says what it is and where to read it."""
    name = ANNOUNCEMENT_KINDS.get(kind, ("公告", "Announcement"))[0]
    if channel == "sms":
        return Rendered(channel, "zh-CN", "", f"【工会】{name}：{title}。全文请在工会消息中心查看。")
    if channel == "email":
        return Rendered(channel, "zh-CN", f"【{name}】{title}", body + "\n\n——本邮件由工会服务平台自动发送，请勿回复。")
    return Rendered(channel, "zh-CN", title, body)
