"""The demo data set: a dozen customer accounts across all eight plans and every account
status, their contacts, a small support team, and a few hundred tickets over the last
four weeks with replies, notes, severity changes and some SLA breaches.

Everything is made through the real write paths (`accounts.actions`, the import code,
`intake.service.receive`, `tickets.actions`) with an explicit clock: each step is
given the instant it happened, so the SLA decisions are the ones the product would
have made at the time. Running it again changes nothing: accounts are upserted and each
demo ticket is recognised by its first message's `source_ref` ("demo:N").
No notifications run for this history (nobody is paged or mailed about the past).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from supportdesk.accounts import actions as account_actions
from supportdesk.accounts.models import Account, Contact, User
from supportdesk.accounts.transfer import Located, import_accounts
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets import actions, notify
from supportdesk.tickets.models import Message, Ticket

SUPERVISOR = ("supervisor@supportdesk.localhost", "Sofia Supervisora", "demo-supervisor")
SPECIALISTS = [
    ("ana.lima@supportdesk.localhost", "Ana Lima", "demo-specialist"),
    ("bruno.costa@supportdesk.localhost", "Bruno Costa", "demo-specialist"),
    ("carla.souza@supportdesk.localhost", "Carla Souza", "demo-specialist"),
    ("diego.alves@supportdesk.localhost", "Diego Alves", "demo-specialist"),
]
CUSTOMER_PASSWORD = "demo-customer"
DEMO_POINT_OF_CONTACT = "marina@nimbus-logistics.example"
DEMO_OTHER_CONTACT = "rafael@nimbus-logistics.example"
# Nimbus's account owner: manages its team (points of contact, invitations) in the portal.
DEMO_ACCOUNT_OWNER = "beatriz@nimbus-logistics.example"
TICKETS = 320
DAYS = 28
BRT = ZoneInfo("America/Sao_Paulo")


def _contact(email: str, name: str, poc: bool = False, phone: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"email": email, "name": name, "point_of_contact": poc}
    if phone:
        entry["phone"] = phone
    return entry


# Subscriptions in force end on 1 January two years after the demo's "now" (so they are in
# force whenever the demo runs, and the data set only changes once a year).
CURRENT = "current"


def _sub(plan: str, status: str, starts: str, ends: str | None) -> dict[str, Any]:
    return {"plan": plan, "status": status, "starts": starts, "ends": ends}


# slug, name, domains, subscription, contacts (+ optional account keys)
ACCOUNTS: list[dict[str, Any]] = [
    {"slug": "nimbus", "name": "Nimbus Logistics",
     "domains": ["nimbus-logistics.example", "nimbuslog.example"], "allow_subdomains": True,
     "subscription": _sub("mission-critical", "active", "2024-02-01", CURRENT),
     "contacts": [_contact(DEMO_POINT_OF_CONTACT, "Marina Rocha", True, "+55 11 98765-4321"),
                  _contact("joao@nimbus-logistics.example", "João Pereira", True, "+55 11 97654-3210"),
                  _contact(DEMO_OTHER_CONTACT, "Rafael Nunes"),
                  {**_contact(DEMO_ACCOUNT_OWNER, "Beatriz Almeida"), "account_owner": True}],
     "tam": True},
    {"slug": "atlas-bank", "name": "Atlas Bank", "domains": ["atlasbank.example"],
     "subscription": _sub("enterprise", "active", "2021-05-01", "2024-05-01"),
     "renewal": _sub("enterprise", "active", "2024-05-01", CURRENT),
     "contacts": [_contact("it-ops@atlasbank.example", "Atlas IT Ops", True, "+55 21 99876-5432"),
                  _contact("claudia@atlasbank.example", "Cláudia Ramos", True),
                  _contact("pedro@atlasbank.example", "Pedro Gomes")]},
    {"slug": "orion-retail", "name": "Orion Retail", "domains": ["orionretail.example"],
     "subscription": _sub("gold", "active", "2021-09-01", CURRENT),
     "contacts": [_contact("helpdesk@orionretail.example", "Orion Helpdesk", True, "+55 31 98888-1111"),
                  _contact("luiza@orionretail.example", "Luiza Martins")]},
    {"slug": "vega-health", "name": "Vega Health", "domains": ["vegahealth.example"],
     "subscription": _sub("silver", "active", "2022-03-15", CURRENT),
     "contacts": [_contact("ti@vegahealth.example", "TI Vega", True, "+55 41 99777-2222"),
                  _contact("fernanda@vegahealth.example", "Fernanda Dias")]},
    {"slug": "lyra-foods", "name": "Lyra Foods", "domains": ["lyrafoods.example"],
     "subscription": _sub("pro", "active", "2020-11-01", CURRENT),
     "contacts": [_contact("sistemas@lyrafoods.example", "Sistemas Lyra", True, "+55 51 99666-3333")]},
    {"slug": "cetus-media", "name": "Cetus Media", "domains": ["cetusmedia.example"],
     "subscription": _sub("bronze", "active", "2022-01-10", CURRENT),
     "contacts": [_contact("tech@cetusmedia.example", "Cetus Tech", True),
                  _contact("gabriel@cetusmedia.example", "Gabriel Lopes")]},
    {"slug": "draco-energy", "name": "Draco Energy", "domains": ["dracoenergy.example"],
     "subscription": _sub("plus", "active", "2024-06-01", CURRENT),
     "contacts": [_contact("noc@dracoenergy.example", "Draco NOC", True, "+55 61 99555-4444"),
                  _contact("beatriz@dracoenergy.example", "Beatriz Castro", True)]},
    {"slug": "pavo-analytics", "name": "Pavo Analytics", "domains": ["pavoanalytics.example"],
     "subscription": _sub("plus", "trial", "2025-01-01", None),
     "contacts": [_contact("hello@pavoanalytics.example", "Pavo Team", True)]},
    {"slug": "hydra-games", "name": "Hydra Games", "domains": ["hydragames.example"],
     "subscription": _sub("standard", "active", "2024-01-01", None),
     "contacts": [_contact("devops@hydragames.example", "Hydra DevOps", True),
                  _contact("isabela@hydragames.example", "Isabela Freitas")]},
    {"slug": "lupus-telecom", "name": "Lupus Telecom", "domains": ["lupustelecom.example"],
     "subscription": _sub("standard", "active", "2023-01-01", "2025-01-01"),
     "contacts": [_contact("suporte@lupustelecom.example", "Suporte Lupus", True)]},
    {"slug": "aquila-travel", "name": "Aquila Travel", "domains": ["aquilatravel.example"],
     "subscription": _sub("gold", "active", "2021-02-01", CURRENT),
     "suspension": _sub("gold", "suspended", "2025-01-15", CURRENT),
     "contacts": [_contact("ops@aquilatravel.example", "Aquila Ops", True, "+55 71 99444-5555")]},
    {"slug": "corvus-labs", "name": "Corvus Labs", "domains": ["corvuslabs.example"],
     "subscription": _sub("mission-critical", "trial", "2025-01-01", None),
     "contacts": [_contact("eng@corvuslabs.example", "Corvus Engineering", True)]},
]

SUBJECTS = {
    "high": [
        ("Production is down", "Our production environment stopped responding at {t}. No workaround."),
        ("Sistema fora do ar", "Desde {t} ninguém consegue acessar o sistema. Operação parada."),
        ("Data corruption after upgrade", "After the upgrade at {t} several records show wrong totals."),
        ("Erro crítico no faturamento", "O módulo de faturamento trava ao fechar o mês (desde {t})."),
    ],
    "medium": [
        ("Reports are slow", "The monthly report takes over ten minutes since {t}."),
        ("Exportação falhando às vezes", "A exportação CSV falha de vez em quando desde {t}."),
        ("Some users cannot log in", "Three users in the finance team cannot sign in since {t}."),
        ("Integração com ERP instável", "A integração com o ERP perde pedidos esporadicamente desde {t}."),
    ],
    "low": [
        ("How do I change the logo?", "Where can we change the logo shown on invoices?"),
        ("Dúvida sobre permissões", "Qual perfil permite aprovar pedidos sem editar cadastros?"),
        ("Typo in the documentation", "The API page says 'recieve' in the webhooks section."),
        ("Sugestão: filtro por data", "Seria ótimo poder filtrar a lista de pedidos por data."),
    ],
}
REPLIES = [
    "Thanks for reporting this. We are looking into it now and will update you shortly.",
    "Obrigado pelo contato. Já estamos analisando e retornamos em breve.",
    "We have reproduced the problem and are working on a fix.",
    "Could you send us the exact time and the user affected? That will help us trace it.",
]
NOTES = [
    "Checked the logs: timeouts on the database replica.",
    "Customer is on the previous release; the fix is in 4.2.",
    "Escalated to engineering, ticket ENG-2231.",
]
FOLLOW_UPS = [
    "Any news? This is still affecting us.",
    "Segue o print do erro que aparece.",
    "Thanks, that worked!",
]


@dataclass
class DemoReport:
    accounts: str
    tickets_created: int
    tickets_existing: int


def _people() -> tuple[User, list[User]]:
    supervisor, _ = account_actions.ensure_staff_user(
        email=SUPERVISOR[0], name=SUPERVISOR[1], role=User.Role.SUPERVISOR, password=SUPERVISOR[2]
    )
    specialists = [
        account_actions.ensure_staff_user(
            email=email, name=name, role=User.Role.SPECIALIST, password=password
        )[0]
        for email, name, password in SPECIALISTS
    ]
    return supervisor, specialists


def _accounts(*, now: datetime, specialists: list[User]) -> str:
    records = []
    for index, spec in enumerate(ACCOUNTS):
        entry = {
            k: v
            for k, v in spec.items()
            if k not in ("subscription", "renewal", "suspension", "tam")
        }
        entry["account_manager"] = specialists[index % len(specialists)].email
        if spec.get("tam"):
            entry["technical_account_manager"] = specialists[(index + 1) % len(specialists)].email
        records.append(Located(entry, f"demo account {spec['slug']}"))
    report = import_accounts(records, now=now)  # accounts, domains, contacts
    # The subscription history, oldest first, each row recorded once.
    recorded = 0
    for spec in ACCOUNTS:
        account = Account.objects.get(slug=spec["slug"])
        existing = {
            (s.plan, s.status, s.starts, s.ends) for s in account.subscriptions.all()
        }
        for key in ("subscription", "renewal", "suspension"):
            row = spec.get(key)
            if row is None:
                continue
            starts = date.fromisoformat(row["starts"])
            if row["ends"] == CURRENT:
                ends: date | None = date(now.year + 2, 1, 1)
            else:
                ends = date.fromisoformat(row["ends"]) if row["ends"] else None
            if (row["plan"], row["status"], starts, ends) in existing:
                continue
            account_actions.record_subscription(
                account=account, plan=row["plan"], status=row["status"], starts=starts,
                ends=ends, note=f"demo {key}", now=now,
            )
            recorded += 1
    for email in (DEMO_POINT_OF_CONTACT, DEMO_OTHER_CONTACT, DEMO_ACCOUNT_OWNER):
        contact = Contact.objects.get(email=email)
        if contact.user_id is None:
            account_actions.give_contact_login(contact=contact, password=CUSTOMER_PASSWORD)
    return (
        f"{report.accounts_created} created, {report.accounts_updated} updated; "
        f"{report.domains_added} domains and {report.contacts_created} contacts added; "
        f"{recorded} subscription rows recorded"
    )


def _opening_time(rng: random.Random, now: datetime, index: int) -> datetime:
    """Spread over the last DAYS days, mostly in Brazilian working hours."""
    day = now - timedelta(days=DAYS) + timedelta(days=DAYS * index / TICKETS)
    local = day.astimezone(BRT)
    if rng.random() < 0.8:
        local = local.replace(hour=rng.randint(8, 18), minute=rng.randint(0, 59))
    else:
        local = local.replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59))
    opened = local.astimezone(UTC)
    return min(opened, now - timedelta(minutes=5 + index % 30))


PORTAL_ONLY = {a["slug"] for a in ACCOUNTS if a["subscription"]["plan"] == "standard"}


def _request(
    rng: random.Random, opened: datetime, contacts: list[Contact], n: int, specialists: list[User]
) -> InboundRequest:
    contact = rng.choice(contacts)
    roll = rng.random()
    severity = rng.choices(["low", "medium", "high"], weights=[4, 5, 2])[0]
    subject, body = rng.choice(SUBJECTS[severity])
    body = body.format(t=opened.astimezone(BRT).strftime("%H:%M"))
    if roll < 0.02:  # mail claiming a customer's domain that fails authentication: review
        return InboundRequest(channel="email", sender_email=contact.email, sender_name=contact.name,
                              subject=subject, body_text=body, received_at=opened,
                              authenticated=False, source_ref=f"demo:{n}")
    if roll < 0.07:  # someone writing from free mail: not identified
        return InboundRequest(channel="email", sender_email=f"{contact.name.split()[0].lower()}{n}@gmail.com",
                              sender_name=contact.name, subject=subject, body_text=body,
                              received_at=opened, source_ref=f"demo:{n}")
    if roll < 0.45 or contact.account.slug in PORTAL_ONLY:
        poc = contact if contact.is_point_of_contact else next(
            (c for c in contacts if c.account_id == contact.account_id and c.is_point_of_contact), contact
        )
        return InboundRequest(channel="portal", contact=poc, subject=subject, body_text=body,
                              requested_severity=severity, received_at=opened, source_ref=f"demo:{n}")
    if roll < 0.55 and contact.phone:
        return InboundRequest(channel="hotline", sender_phone=contact.phone, subject=subject,
                              body_text=body, received_at=opened, source_ref=f"demo:{n}",
                              logged_by=rng.choice(specialists))
    return InboundRequest(channel="email", sender_email=contact.email, sender_name=contact.name,
                          subject=subject, body_text=body, body_html=f"<p>{body}</p>",
                          received_at=opened, authenticated=True, source_ref=f"demo:{n}",
                          message_id=f"<demo-{n}@{contact.email.split('@')[1]}>")


def _work_on(ticket: Ticket, *, rng: random.Random, now: datetime, specialists: list[User],
             supervisor: User) -> None:
    """What the team did with the ticket since it was opened (never after `now`)."""
    opened = ticket.opened_at
    due = ticket.first_response_due
    age = now - opened
    sam = rng.choice(specialists)
    if ticket.queue != "customer" and age > timedelta(hours=1):
        account = Account.objects.filter(contacts__name__iexact=ticket.requester_name).first()
        if account is not None and rng.random() < 0.7:
            ticket = actions.move_to_account(ticket=ticket, account=account, actor=supervisor,
                                             reason="sender confirmed by phone",
                                             now=opened + timedelta(minutes=8))
            due = ticket.first_response_due
    if rng.random() < 0.7 and age > timedelta(minutes=20):
        ticket = actions.assign(ticket=ticket, assignee=sam, actor=supervisor,
                                now=opened + timedelta(minutes=10))
    if rng.random() < 0.15 and age > timedelta(minutes=40):
        new = {"low": "medium", "medium": "high", "high": "medium"}[ticket.severity]
        ticket = actions.change_severity(ticket=ticket, severity=new, actor=sam,
                                         reason="impact confirmed with the customer",
                                         now=opened + timedelta(minutes=15))
        due = ticket.first_response_due
    if rng.random() < 0.3 and age > timedelta(minutes=30):
        actions.add_internal_note(ticket=ticket, author=sam, body_text=rng.choice(NOTES),
                                  now=opened + timedelta(minutes=20))
    # First response: usually in time, sometimes late (a breach), recent ones maybe not yet.
    budget = (due - opened) if due is not None else timedelta(hours=8)
    late = rng.random() < 0.12
    answer_after = budget * (rng.uniform(1.05, 1.8) if late else rng.uniform(0.1, 0.9))
    answer_at = opened + max(answer_after, timedelta(minutes=25))
    if answer_at >= now or (age < timedelta(days=2) and rng.random() < 0.35):
        return  # still waiting for its first response (some of these are breached)
    ticket = actions.add_public_reply(ticket=ticket, author=sam, body_text=rng.choice(REPLIES),
                                      status="pending", now=answer_at).ticket
    follow_up = answer_at + timedelta(hours=rng.uniform(1, 30))
    if follow_up < now and rng.random() < 0.5:
        actions.add_customer_message(ticket=ticket, body_text=rng.choice(FOLLOW_UPS),
                                     author_contact=ticket.requester,
                                     author_email=ticket.requester_email, now=follow_up)
    closing = answer_at + timedelta(days=rng.uniform(0.5, 6))
    if closing < now and rng.random() < 0.8:
        ticket = actions.change_status(ticket=ticket, status="solved", actor=sam, now=closing)
        if closing + timedelta(days=3) < now:
            actions.change_status(ticket=ticket, status="closed", actor=sam,
                                  now=closing + timedelta(days=3))


def load_demo(*, now: datetime, seed: int = 2026,
              progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Create (or complete) the demo data set as of `now`."""
    rng = random.Random(seed)
    with notify.suppressed():
        with transaction.atomic():
            supervisor, specialists = _people()
            accounts = _accounts(now=now, specialists=specialists)
        contacts = list(
            Contact.objects.select_related("account")
            .filter(account__slug__in=[a["slug"] for a in ACCOUNTS]).order_by("email")
        )
        # Numbers follow opening times, as they would have.
        openings = sorted(_opening_time(rng, now, n) for n in range(TICKETS))
        done = set(
            Message.objects.filter(source_ref__startswith="demo:").values_list("source_ref", flat=True)
        )
        created = 0
        for n in range(TICKETS):
            # Draw the same random numbers whether or not the ticket exists, so a second
            # run (or one completing an interrupted run) makes the same data set.
            opened = openings[n]
            request = _request(rng, opened, contacts, n, specialists)
            work_rng = random.Random(f"{seed}:{n}")
            if f"demo:{n}" in done:
                continue
            with transaction.atomic():
                result = receive(request, now=opened)
                if result.ticket is not None:
                    _work_on(result.ticket, rng=work_rng, now=now, specialists=specialists,
                             supervisor=supervisor)
                    created += 1
            if progress is not None:
                progress(n + 1, TICKETS)
    return DemoReport(accounts=accounts, tickets_created=created, tickets_existing=len(done))
