"""The simulated companies of the demo: the 2010 survey behind this project, replayed.

First human answers after 33 min, 1 h, 2.5 h, 4 h, about a day, 2 days, 5 days and
never; one company acknowledges automatically first, one answers from a help-desk domain
quoting only the reference code, one bounces, one has a CAPTCHA, one has a Hebrew
right-to-left form, one is reached only through its homepage's footer. Two more publish
only an e-mail address and are surveyed by e-mail (issue 14): one answers in 3 h, in the
thread of our inquiry, and one never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ReplyKind = Literal["human", "auto_ack", "bounce"]

MIN = 60
HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Reply:
    delay_s: int  # after the form reached the company's server
    kind: ReplyKind
    via_helpdesk: bool = False  # from a help-desk domain, to the untagged address, ref code only


@dataclass(frozen=True)
class DemoCompany:
    slug: str
    name: str
    sector: str
    domain: str
    replies: tuple[Reply, ...] = ()
    lang: Literal["en", "he"] = "en"
    captcha: bool = False
    footer_only: bool = False  # the survey knows only the homepage; contact link in footer
    expected_status: str = "answered"
    helpdesk_domain: str | None = None
    promise: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    channel: Literal["form", "email"] = "form"  # email: surveyed at its published address

    @property
    def email(self) -> str:
        """The company's published address (the e-mail channel sends the inquiry there)."""
        return f"support@{self.domain}"

    @property
    def first_human_s(self) -> int | None:
        humans = [r.delay_s for r in self.replies if r.kind == "human"]
        return min(humans) if humans else None

    @property
    def first_contact_s(self) -> int | None:
        return min((r.delay_s for r in self.replies), default=None)


COMPANIES: tuple[DemoCompany, ...] = (
    DemoCompany(
        "carmel-bank",
        "Carmel Bank",
        "banking",
        "carmel-bank.demo.test",
        (Reply(33 * MIN, "human"),),
        promise="1 business day",
    ),
    DemoCompany(
        "galil-insurance",
        "Galil Insurance",
        "insurance",
        "galil-insurance.demo.test",
        (Reply(1 * HOUR, "human"),),
    ),
    DemoCompany(
        "negev-telecom",
        "Negev Telecom",
        "telecom",
        "negev-telecom.demo.test",
        (Reply(45, "auto_ack"), Reply(150 * MIN, "human")),
        promise="2 hours",
    ),
    DemoCompany(
        "bank-hasharon",
        "בנק השרון",
        "banking",
        "bank-hasharon.demo.test",
        (Reply(4 * HOUR, "human"),),
        lang="he",
    ),
    DemoCompany(
        "kinneret-cards",
        "Kinneret Cards",
        "credit cards",
        "kinneret-cards.demo.test",
        (Reply(1 * DAY + 20 * MIN, "human", via_helpdesk=True),),
        helpdesk_domain="kinneret.helpdesk-demo.test",
    ),
    DemoCompany(
        "arava-foods",
        "Arava Foods",
        "food",
        "arava-foods.demo.test",
        (Reply(2 * DAY, "human"),),
        footer_only=True,
    ),
    DemoCompany(
        "yarden-health",
        "Yarden Health Fund",
        "health",
        "yarden-health.demo.test",
        (Reply(5 * DAY, "human"),),
        promise="3 business days",
    ),
    DemoCompany(
        "tavor-cable",
        "Tavor Cable",
        "telecom",
        "tavor-cable.demo.test",
        (),
        expected_status="no_reply",
    ),
    DemoCompany(
        "ramon-water",
        "Ramon Water",
        "utilities",
        "ramon-water.demo.test",
        (Reply(2 * MIN, "auto_ack"),),
        expected_status="auto_ack_only",
    ),
    DemoCompany(
        "hermon-energy",
        "Hermon Energy",
        "utilities",
        "hermon-energy.demo.test",
        (Reply(90, "bounce"),),
        expected_status="bounced",
    ),
    DemoCompany(
        "golan-mobile",
        "Golan Mobile",
        "telecom",
        "golan-mobile.demo.test",
        (Reply(10 * MIN, "human"),),
        captcha=True,
        expected_status="blocked",
    ),
    DemoCompany(
        "eilat-air",
        "Eilat Air",
        "travel",
        "eilat-air.demo.test",
        (),
        expected_status="no_reply",
    ),
    DemoCompany(
        "hula-post",
        "Hula Post",
        "postal",
        "hula-post.demo.test",
        (Reply(3 * HOUR, "human"),),
        channel="email",
    ),
    DemoCompany(
        "dead-sea-spa",
        "Dead Sea Spa",
        "tourism",
        "dead-sea-spa.demo.test",
        (),
        expected_status="no_reply",
        channel="email",
    ),
)
