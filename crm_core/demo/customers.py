"""Demo customers: Chinese and English names, E.164 numbers, levels, addresses, tags, points, blacklist marks.

A customer's natural key is the primary mobile number. Everything that has
no key of its own (points movements, blacklist marks) is written in the same
transaction as the customer, so a customer exists with all of it or not at all.
Points go through the points services, so every balance equals its ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from crm_core.demo.context import DemoContext
from crm_core.demo.data import people
from crm_core.demo.stamps import rng, stamped
from crm_core.enums import MemberLevel, NotifyChannel, PhoneKind
from crm_core.models import Address, BlacklistMark, Customer, CustomerPhone, CustomerTag, PointsEntry
from crm_core.phones import to_e164, try_e164
from crm_core.services.customers import add_phone, create_customer, mark_blacklist
from crm_core.services.points import earn_points, expire_points, redeem_points

FULL_CUSTOMERS = 200
MIN_CUSTOMERS = 12

LEVELS = (
    (MemberLevel.NORMAL, 45, (0, 600)),
    (MemberLevel.SILVER, 25, (600, 2500)),
    (MemberLevel.GOLD, 17, (2500, 8000)),
    (MemberLevel.PLATINUM, 9, (8000, 20000)),
    (MemberLevel.DIAMOND, 4, (20000, 50000)),
)


@dataclass(frozen=True)
class CustomerSpec:
    index: int
    name: str
    phonetic: str | None
    language: str
    mobile: str  # E.164, the natural key
    extra_phones: tuple[tuple[str, str], ...]  # (E.164, kind)
    email: str | None
    birthday: dt.date
    level: str
    notify: str
    created_days_ago: float
    opening_points: int
    redeem: int
    expire: int
    tags: tuple[str, ...]
    addresses: tuple[dict[str, str | bool], ...]
    blacklist_marks: int = 0
    notes: str | None = None
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def blacklisted(self) -> bool:
        return self.blacklist_marks > 0 and self.extras.get("blacklisted") == "yes"


def _mobile(r, taken: set[str]) -> str:  # type: ignore[no-untyped-def]
    while True:
        number = to_e164(r.choice(people.MOBILE_PREFIXES) + f"{r.randrange(10**8):08d}")
        if number.startswith("+86") and number not in taken:
            taken.add(number)
            return number


def customer_specs(seed: int, count: int, blacklist_threshold: int) -> list[CustomerSpec]:
    """The first ``count`` demo customers (the same people at every scale)."""
    taken: set[str] = set()
    specs = []
    for index in range(count):
        r = rng(seed, "customer", index)
        city = r.choice(people.CITIES)
        province, city_name, area, postcode, districts, streets = city
        english = index % 9 == 4
        if english:
            first, last = r.choice(people.ENGLISH_FIRST), r.choice(people.ENGLISH_LAST)
            name, phonetic, language = f"{first} {last}", None, "en"
            handle = f"{first}.{last}".lower()
        else:
            (s_zh, s_py), (g_zh, g_py) = r.choice(people.SURNAMES), r.choice(people.GIVEN_NAMES)
            name, phonetic, language = s_zh + g_zh, f"{s_py} {g_py}", "zh"
            handle = (s_py + g_py).lower()
        mobile = _mobile(r, taken)
        extra: list[tuple[str, str]] = []
        if r.random() < 0.3:
            landline = try_e164(f"0{area}{r.randrange(2, 9)}{r.randrange(10**7):07d}")
            if landline and landline.startswith("+86") and landline not in taken:
                taken.add(landline)
                extra.append((landline, PhoneKind.HOME.value))
        if r.random() < 0.1:
            extra.append((_mobile(r, taken), PhoneKind.WORK.value))
        email = f"{handle}{r.randrange(10, 99)}@example.com" if r.random() < 0.45 or english else None
        level, _, (low, high) = r.choices(LEVELS, weights=[w for _, w, _ in LEVELS])[0]
        opening = r.randrange(low, high) if high else 0
        redeem = r.randrange(100, max(101, opening // 3)) if opening > 300 and r.random() < 0.35 else 0
        expire = r.randrange(20, 200) if opening - redeem > 400 and r.random() < 0.15 else 0
        notify = r.choices([NotifyChannel.SMS, NotifyChannel.VOICE, NotifyChannel.EMAIL, NotifyChannel.FAX],
                           weights=[60, 20, 18 if email else 0, 2])[0]
        addresses = []
        for n in range(1 if r.random() < 0.75 else 2):
            addresses.append(dict(
                recipient=name, phone=mobile, province=province, city=city_name,
                district=r.choice(districts),
                line1=f"{r.choice(streets)}{r.randrange(1, 999)}号{r.randrange(1, 30)}栋{r.randrange(1, 6)}单元"
                      f"{r.randrange(1, 33)}{r.randrange(1, 6):02d}室",
                line2="公司前台代收" if n == 1 else None,
                postcode=f"{postcode}{r.randrange(0, 1000):03d}", is_default=n == 0,
            ))
        tags = set(r.sample(people.TAGS[:10], r.randrange(0, 3)))
        if english:
            tags.add("english_speaker")
        if level in (MemberLevel.PLATINUM, MemberLevel.DIAMOND):
            tags.add("高价值")
        marks = 0
        blacklisted = index % 50 == 7
        if blacklisted:
            marks = blacklist_threshold
        elif index % 50 == 11:
            marks = 1  # one report, not (yet) blacklisted
        specs.append(CustomerSpec(
            index=index, name=name, phonetic=phonetic, language=language, mobile=mobile,
            extra_phones=tuple(extra), email=email,
            birthday=dt.date(r.randrange(1942, 2002), r.randrange(1, 13), r.randrange(1, 29)),
            level=level.value, notify=notify.value, created_days_ago=90 - r.random() * 18,
            opening_points=opening, redeem=redeem, expire=expire, tags=tuple(sorted(tags)),
            addresses=tuple(addresses), blacklist_marks=marks,
            extras={"blacklisted": "yes" if blacklisted else "no"},
        ))
    return specs


def load_customers(ctx: DemoContext, specs: list[CustomerSpec], marked_by: list[str]) -> None:
    """Create the customers not there yet (by primary mobile), with their history; batches of 25."""
    with ctx.transaction() as session:
        have = set(session.scalars(select(CustomerPhone.e164).where(CustomerPhone.is_primary.is_(True))))
    for start in range(0, len(specs), 25):
        chunk = specs[start : start + 25]
        with ctx.transaction() as session:
            for spec in chunk:
                if spec.mobile not in have:
                    _create(ctx, session, spec, marked_by)
        ctx.advance(len(chunk))


def _create(ctx: DemoContext, session, spec: CustomerSpec, marked_by: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = rng(ctx.seed, "customer-history", spec.index)
    born = ctx.days_ago(spec.created_days_ago)
    with stamped(session, born, Customer, CustomerPhone):
        customer = create_customer(session, spec.name, [spec.mobile], birthday=spec.birthday,
                                   language=spec.language, notify_channel=spec.notify, email=spec.email)
        customer.name_phonetic = spec.phonetic
        customer.member_level = spec.level
        for number, kind in spec.extra_phones:
            add_phone(session, customer, number, kind=kind)
        for values in spec.addresses:
            session.add(Address(customer_id=customer.id, **values))
        for tag in spec.tags:
            session.add(CustomerTag(customer_id=customer.id, tag=tag))
    if spec.opening_points:
        with stamped(session, born + dt.timedelta(hours=1), PointsEntry):
            earn_points(session, customer.id, spec.opening_points, reason="老会员积分迁移 opening balance", by="demo")
    if spec.redeem:
        with stamped(session, born + dt.timedelta(days=1 + r.random()), PointsEntry):
            redeem_points(session, customer.id, spec.redeem, reason="积分兑换礼品 points for a gift", by="ivr")
    if spec.expire:
        with stamped(session, born + dt.timedelta(days=2 + r.random()), PointsEntry):
            expire_points(session, customer.id, spec.expire, reason="两年前积分到期 points older than two years")
    reasons = people.BLACKLIST_REASONS
    for n in range(spec.blacklist_marks):
        with stamped(session, born + dt.timedelta(days=2.5 + n * 0.7), BlacklistMark):
            mark_blacklist(session, customer.id, marked_by=marked_by[n % len(marked_by)],
                           reason=reasons[(spec.index + n) % len(reasons)], threshold=ctx.options.blacklist_threshold)
