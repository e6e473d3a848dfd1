"""Who hears about what in bookings. The only module of this app that calls ``linli.notifications``.

Every message is written inside the transaction of the change it reports (outbox rows and their delivery
tasks commit with it, or not at all) and is idempotent by a dedup key naming the business event — the
event row, or for reminders the appointment and the start time reminded of — so a retried request or a
re-run sweep sends nothing twice. SMS texts name the station, the item and the time, never a person.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from linli.notifications.services import notification_send

if TYPE_CHECKING:
    from linli.accounts.models import User
    from linli.bookings.models import AgencyDetail, Appointment, RoomBooking, ToolLoan
    from linli.bookings.transitions import TransitionResult

MINE = "/bookings/mine/"
AGENCY_MINE = "/bookings/agency/"
ROOMS_MINE = "/bookings/rooms/mine/"


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


def _appointment_text(a: Appointment) -> str:
    return f"{_when(a.starts_at)} 在{a.station.name}办理「{a.item.name}」"


def appointment_booked(appointment: Appointment) -> None:
    text = _appointment_text(appointment)
    notification_send(
        recipients=[appointment.resident],
        kind="booking.booked",
        title="预约成功",
        body=f"您已预约{text}。请按时到达,到达后在窗口签到取号。",
        link=MINE,
        sms_text=f"【邻里】您已预约{text}。如需取消或改约,请登录邻里。",
        dedup_key=f"appt:{appointment.pk}:booked",
    )


_APPOINTMENT_MESSAGES: dict[str, tuple[str, bool]] = {
    # action: (title, also by SMS)
    "cancel": ("预约已取消", False),
    "reschedule": ("预约已改约", True),
    "check_in": ("已签到取号", False),
    "no_show": ("您错过了预约", False),
}


def appointment_changed(result: TransitionResult) -> None:
    """Tell the resident about a change they did not necessarily make themself."""
    appointment: Appointment = result.obj
    action = result.transition.action
    if action not in _APPOINTMENT_MESSAGES:
        return
    title, sms = _APPOINTMENT_MESSAGES[action]
    text = _appointment_text(appointment)
    if action == "check_in":
        body = f"您的排队号是 {appointment.queue_number}({appointment.item.name}),请留意叫号。"
    elif action == "cancel":
        by_station = result.who != "owner"
        body = f"{'服务阵地取消了' if by_station else '您已取消'}预约:{text}。" + (
            f"原因:{result.event.note}" if by_station and result.event.note else ""
        )
        sms = by_station  # the station cancelling is news; the resident's own cancel is not
    elif action == "reschedule":
        body = f"预约已改为{text}。"
    else:
        body = f"您预约的{text}已结束且未签到。如仍需办理,请重新预约。"
    notification_send(
        recipients=[appointment.resident],
        kind=f"booking.{action}",
        title=title,
        body=body,
        link=MINE,
        sms_text=f"【邻里】{body}" if sms else None,
        dedup_key=f"appt:{appointment.pk}:event:{result.event.pk}",
    )


def appointment_reminder(appointment: Appointment, *, which: str) -> None:
    """``which``: "day" (the day before) or "hour" (an hour before)."""
    text = _appointment_text(appointment)
    lead = "明天" if which == "day" else "一小时后"
    stamp = int(appointment.starts_at.timestamp())  # a rescheduled appointment is reminded again
    notification_send(
        recipients=[appointment.resident],
        kind=f"booking.remind_{which}",
        title=f"预约提醒:{lead}办事",
        body=f"您预约了{text}。",
        link=MINE,
        sms_text=f"【邻里】提醒:您预约了{text}。",
        dedup_key=f"appt:{appointment.pk}:remind:{which}:{stamp}",
    )


_STEP_TITLES = {
    "collect": "代办进度:材料已收取",
    "submit": "代办进度:已递交办理",
    "return_result": "代办进度:办理结果已送回",
}


def agency_step(result: TransitionResult) -> None:
    detail: AgencyDetail = result.obj
    title = _STEP_TITLES[result.transition.action]
    body = f"「{detail.item.name}」{title.split(':', 1)[1]}。" + (
        f"说明:{result.event.note}" if result.event.note else ""
    )
    sms = result.transition.action == "return_result"
    recipients: list[User] = [detail.on_behalf_of] if detail.on_behalf_of is not None else []
    phones = [detail.beneficiary_phone] if not recipients and detail.beneficiary_phone else []
    if not recipients and not phones:
        return
    notification_send(
        recipients=recipients,
        phones=phones,
        kind=f"agency.{result.transition.action}",
        title=title,
        body=body,
        link=AGENCY_MINE,
        sms_text=f"【邻里】您的代办事项「{detail.item.name}」{title.split(':', 1)[1]}。" if sms else None,
        dedup_key=f"agency:{detail.pk}:event:{result.event.pk}",
    )


def room_booking_created(booking: RoomBooking) -> None:
    pending = booking.status == "pending"
    notification_send(
        recipients=[booking.booked_by],
        kind="room.booked",
        title="场地预订已提交,等待审批" if pending else "场地预订成功",
        body=f"{booking.resource.name}:{_when(booking.starts_at)}–{timezone.localtime(booking.ends_at):%H:%M}",
        link=ROOMS_MINE,
        dedup_key=f"room:{booking.pk}:created",
    )


def room_booking_changed(result: TransitionResult) -> None:
    booking: RoomBooking = result.obj
    action = result.transition.action
    if action == "cancel" and result.who == "owner":
        return  # the booker cancelled it themself
    titles = {"approve": "场地预订已批准", "reject": "场地预订未获批准", "cancel": "场地预订被取消"}
    when = f"{_when(booking.starts_at)}–{timezone.localtime(booking.ends_at):%H:%M}"
    body = f"{booking.resource.name}:{when}。" + (f"说明:{result.event.note}" if result.event.note else "")
    notification_send(
        recipients=[booking.booked_by],
        kind=f"room.{action}",
        title=titles[action],
        body=body,
        link=ROOMS_MINE,
        sms_text=f"【邻里】{titles[action]}:{booking.resource.name} {when}。",
        dedup_key=f"room:{booking.pk}:event:{result.event.pk}",
    )


def loan_lent(loan: ToolLoan) -> None:
    notification_send(
        recipients=[loan.borrower],
        kind="loan.lent",
        title="工具借用登记",
        body=f"您借用了{loan.resource.name} × {loan.quantity},请于{_when(loan.due_at)}前归还。",
        link="/",
        dedup_key=f"loan:{loan.pk}:lent",
    )


def loan_overdue(loan: ToolLoan, *, day: dt.date) -> None:
    notification_send(
        recipients=[loan.borrower],
        kind="loan.overdue",
        title="借用工具已到期,请归还",
        body=f"您借用的{loan.resource.name} × {loan.quantity}应于{_when(loan.due_at)}归还,请尽快送回。",
        link="/",
        sms_text=f"【邻里】您借用的{loan.resource.name}已到期,请尽快归还。",
        dedup_key=f"loan:{loan.pk}:overdue:{day:%Y%m%d}",
    )
