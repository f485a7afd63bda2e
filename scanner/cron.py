"""Crontab strings (``digest.schedule``) as APScheduler triggers: the one parser that both
``scanner sources check`` (through the configuration's validation) and ``scanner schedule`` use."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def parse_cron(expr: str, tz: str) -> BaseTrigger:
    """A five-field crontab string as an APScheduler trigger in ``tz``, with crontab semantics.

    APScheduler 3.x numbers weekdays from Monday = 0; crontab uses Sunday = 0 (and 7). Weekday
    fields are translated to names. When both day-of-month and day-of-week are restricted, crontab
    fires when either matches, so the trigger is an ``OrTrigger`` of the two.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a five-field cron string (minute hour day month weekday), "
                         "for example '0 7 * * 1' for Mondays at 07:00")
    minute, hour, dom, month, dow = fields
    try:
        days = _cron_weekdays(dow)
        zone = ZoneInfo(tz)
        if dom != "*" and days != "*":
            return OrTrigger([CronTrigger(minute=minute, hour=hour, day=dom, month=month, timezone=zone),
                              CronTrigger(minute=minute, hour=hour, month=month, day_of_week=days, timezone=zone)])
        return CronTrigger(minute=minute, hour=hour, day=dom, month=month, day_of_week=days, timezone=zone)
    except ValueError as e:
        raise ValueError(f"{expr!r} is not a valid cron schedule ({e}); write minute hour day month weekday, "
                         "for example '0 7 * * 1' for Mondays at 07:00 or '*/30 * * * *' every half hour") from None


def _cron_weekdays(field: str) -> str:
    """Crontab weekday field (0/7 = Sunday, names allowed) → APScheduler day names."""
    if field == "*":
        return "*"
    chosen: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"weekday step {step_text!r} must be at least 1")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            lo, hi = _weekday_number(a), _weekday_number(b)
        else:
            lo = _weekday_number(base)
            hi = 7 if step_text else lo
        if lo > hi:
            raise ValueError(f"weekday range {base!r} runs backwards")
        chosen.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(WEEKDAYS[d] for d in sorted(chosen))


def _weekday_number(text: str) -> int:
    t = text.strip().lower()
    if t[:3] in WEEKDAYS and not t.isdigit():
        return WEEKDAYS.index(t[:3])
    if t.isdigit() and 0 <= int(t) <= 7:
        return int(t)
    raise ValueError(f"weekday {text!r} must be 0-7 (0 and 7 are Sunday) or a name such as mon")
