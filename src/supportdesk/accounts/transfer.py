"""Import and export of accounts (domains, contacts, subscription) as JSON or CSV.

The JSON shape (also what `supportdesk export accounts` writes)::

    {"accounts": [{"slug": "acme", "name": "Acme", "domains": ["acme.example"],
      "subscription": {"plan": "gold", "status": "active",
                       "starts": "2021-03-01", "ends": "2027-03-01"},
      "contacts": [{"email": "ana@acme.example", "name": "Ana",
                    "point_of_contact": true, "phone": "+55 11 91234-5678"}]}]}

Optional keys: account `allow_subdomains`, `account_manager` and
`technical_account_manager` (a staff user's email); contact `account_owner`, `active`.

An import is one transaction and an upsert: accounts are matched by slug and contacts by
email; missing domains and contacts are added, changed fields updated, and the
subscription recorded as a new history row only when it differs from the latest one.
Nothing is ever removed. So importing the same file twice changes nothing, and any
invalid row aborts the whole import with a message naming the row and the field.

Who speaks for an account follows the rules of `accounts.contacts`: the account row is
locked, a file that would leave an account with more points of contact than its plan's
`max_points_of_contact` is refused, and every contact added, designated, revoked, made or
unmade owner, removed (`active: false`, which also takes the roles) or brought back is an
`AccountEvent` (no actor; `actor_name` "import accounts <file>", `actor_role` "import").
The account manager is told of changes to points of contact on accounts that existed
before the import, as after the actions; an account the import creates tells nobody.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from supportdesk.accounts import actions, contacts
from supportdesk.accounts.models import Account, AccountEvent, Contact, Subscription, User
from supportdesk.accounts.selectors import count_points_of_contact, point_of_contact_cap
from supportdesk.accounts.validation import (
    check_contact_email,
    check_domain,
    check_email,
    check_phone,
    check_plan,
)

CSV_COLUMNS = [
    "slug",
    "name",
    "domains",
    "plan",
    "status",
    "starts",
    "ends",
    "contact_email",
    "contact_name",
    "contact_phone",
    "point_of_contact",
]
_CSV_ACCOUNT_COLUMNS = ["name", "domains", "plan", "status", "starts", "ends"]


class ImportProblem(Exception):
    """An invalid row: the message names where (row and field) and what is wrong."""


@dataclass
class ImportReport:
    accounts_created: int = 0
    accounts_updated: int = 0
    accounts_unchanged: int = 0
    domains_added: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    subscriptions_recorded: int = 0
    events_recorded: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.accounts_created
            or self.accounts_updated
            or self.domains_added
            or self.contacts_created
            or self.contacts_updated
            or self.subscriptions_recorded
        )

    def summary(self) -> str:
        return (
            f"accounts: {self.accounts_created} created, {self.accounts_updated} updated, "
            f"{self.accounts_unchanged} unchanged; domains added: {self.domains_added}; "
            f"contacts: {self.contacts_created} created, {self.contacts_updated} updated; "
            f"subscription rows recorded: {self.subscriptions_recorded}; "
            f"account events recorded: {self.events_recorded}"
        )


# --- reading -------------------------------------------------------------------------------


@dataclass
class Located:
    """A record and how to name its place in the file in an error message."""

    data: dict[str, Any]
    where: str  # "accounts[2] (acme)" or "line 7"
    fields: dict[str, str] = field(default_factory=dict)  # key -> how to name it

    def at(self, key: str) -> str:
        return f"{self.where}: {self.fields.get(key, key)}"


def read_json(text: str) -> list[Located]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise ImportProblem('expected a JSON object {"accounts": [...]}')
    records = []
    for index, entry in enumerate(document["accounts"]):
        slug = entry.get("slug") if isinstance(entry, dict) else None
        where = f"accounts[{index}]" + (f" ({slug})" if isinstance(slug, str) else "")
        if not isinstance(entry, dict):
            raise ImportProblem(f"{where}: expected an object")
        records.append(Located(entry, where))
    return records


def read_csv(text: str) -> list[Located]:
    """One row per contact; account columns repeat on each row of the account (or are blank
    after its first row). `domains` holds space-separated domains. A row without
    contact_email only declares the account."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("slug", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportProblem(
            f"CSV header lacks {', '.join(missing)}; columns are: {', '.join(CSV_COLUMNS)}"
        )
    unknown = [c for c in reader.fieldnames or [] if c not in CSV_COLUMNS]
    if unknown:
        raise ImportProblem(
            f"CSV header has unknown columns {', '.join(unknown)}; "
            f"columns are: {', '.join(CSV_COLUMNS)}"
        )
    by_slug: dict[str, Located] = {}
    for row in reader:
        line = reader.line_num
        row = {k: (v or "").strip() for k, v in row.items() if k is not None}
        slug = row.get("slug", "")
        if not slug:
            raise ImportProblem(f"line {line}: slug is empty")
        record = by_slug.get(slug)
        if record is None:
            record = Located(
                {"slug": slug, "name": "", "domains": [], "contacts": []},
                f"line {line} ({slug})",
                {"slug": "column slug"},
            )
            by_slug[slug] = record
        _merge_csv_account(record, row, line)
        if row.get("contact_email"):
            record.data["contacts"].append(
                {
                    "email": row["contact_email"],
                    "name": row.get("contact_name", ""),
                    "phone": row.get("contact_phone", ""),
                    "point_of_contact": _csv_bool(row.get("point_of_contact", ""), line),
                    "_where": f"line {line}",
                }
            )
    return list(by_slug.values())


def _csv_bool(value: str, line: int) -> bool | None:
    """yes/no; empty: not given (a new contact is not a point of contact, an existing one
    keeps what it is, so a CSV without the column never revokes anyone)."""
    lowered = value.lower()
    if not lowered:
        return None
    if lowered in ("0", "false", "no", "n"):
        return False
    if lowered in ("1", "true", "yes", "y", "x"):
        return True
    raise ImportProblem(f"line {line}: column point_of_contact: {value!r} is not yes/no")


def _merge_csv_account(record: Located, row: dict[str, str], line: int) -> None:
    data = record.data
    for column in ("name",):
        value = row.get(column, "")
        if value and data[column] and value != data[column]:
            raise ImportProblem(
                f"line {line}: column {column}: {value!r} differs from {data[column]!r} "
                f"given earlier for {data['slug']}"
            )
        if value and not data[column]:
            data[column] = value
            record.fields[column] = f"column {column} (line {line})"
    for domain in row.get("domains", "").replace(";", " ").replace(",", " ").split():
        if domain not in data["domains"]:
            data["domains"].append(domain)
            record.fields[f"domain:{domain}"] = f"column domains (line {line})"
    if any(row.get(c) for c in ("plan", "status", "starts", "ends")):
        subscription = {c: row.get(c, "") for c in ("plan", "status", "starts", "ends")}
        if "subscription" in data and data["subscription"] != subscription:
            raise ImportProblem(
                f"line {line}: columns plan/status/starts/ends differ from those given "
                f"earlier for {data['slug']}"
            )
        data["subscription"] = subscription
        for c in ("plan", "status", "starts", "ends"):
            record.fields[f"subscription.{c}"] = f"column {c} (line {line})"


# --- writing -------------------------------------------------------------------------------


@dataclass
class _Run:
    """One import: when, who to name as the actor of its events, what it did so far."""

    now: datetime
    by: str
    report: ImportReport


def import_accounts(records: list[Located], *, now: datetime, source: str = "") -> ImportReport:
    """Apply the records in one transaction; ImportProblem (and nothing written) if any is bad.

    `source` names the file in the account events it records ("import accounts <source>").
    """
    report = ImportReport()
    run = _Run(now=now, by=f"import accounts {source}".strip()[:300], report=report)
    with transaction.atomic():
        for record in records:
            _import_account(record, run)
    return report


def _problem(record: Located, key: str, exc: ValidationError | str) -> ImportProblem:
    message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc
    return ImportProblem(f"{record.at(key)}: {message}")


def _text(record: Located, data: dict[str, Any], key: str, *, required: bool, label: str = "") -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _problem(record, label or key, f"expected text, got {type(value).__name__}")
    if required and not value.strip():
        raise _problem(record, label or key, "is required")
    return value.strip()


def _staff(record: Located, data: dict[str, Any], key: str) -> User | None:
    address = _text(record, data, key, required=False)
    if not address:
        return None
    try:
        user = User.objects.filter(email=check_email(address)).first()
    except ValidationError as exc:
        raise _problem(record, key, exc) from None
    if user is None or not user.is_agent:
        raise _problem(record, key, f"{address} is not a specialist or supervisor of this desk")
    return user


def _import_account(record: Located, run: _Run) -> None:
    report, now = run.report, run.now
    data = record.data
    slug = _text(record, data, "slug", required=True)
    name = _text(record, data, "name", required=True)
    allow_subdomains = data.get("allow_subdomains", None)
    if allow_subdomains is not None and not isinstance(allow_subdomains, bool):
        raise _problem(record, "allow_subdomains", "expected true or false")
    manager = _staff(record, data, "account_manager")
    tam = _staff(record, data, "technical_account_manager")

    account = Account.objects.filter(slug=slug).first()
    if account is not None:  # as the actions do: no owner changes its team meanwhile
        account = contacts.lock_account(account.pk)
    changed = False
    try:
        if account is None:
            account = actions.create_account(
                slug=slug,
                name=name,
                account_manager=manager,
                technical_account_manager=tam,
                allow_subdomains=bool(allow_subdomains),
                now=now,
            )
            report.accounts_created += 1
            created = True
        else:
            created = False
            updates: dict[str, Any] = {}
            if account.name != name:
                updates["name"] = name
            if manager is not None and account.account_manager_id != manager.pk:
                updates["account_manager"] = manager
            if tam is not None and account.technical_account_manager_id != tam.pk:
                updates["technical_account_manager"] = tam
            if allow_subdomains is not None and account.allow_subdomains != allow_subdomains:
                updates["allow_subdomains"] = allow_subdomains
            if updates:
                actions.update_account(account=account, **updates)
                changed = True
    except ValidationError as exc:
        key = next(iter(getattr(exc, "message_dict", {"slug": None})), "slug")
        raise _problem(record, key, exc) from None

    domains = data.get("domains", [])
    if not isinstance(domains, list):
        raise _problem(record, "domains", "expected a list of domains")
    existing = set(account.domains.values_list("domain", flat=True))
    for index, raw in enumerate(domains):
        key = record.fields.get(f"domain:{raw}", f"domains[{index}]")
        if not isinstance(raw, str):
            raise _problem(record, key, "expected a domain name")
        try:
            domain = check_domain(raw, account=account)
        except ValidationError as exc:
            raise _problem(record, key, exc) from None
        if domain not in existing:
            actions.add_domain(account=account, domain=domain)
            existing.add(domain)
            report.domains_added += 1
            changed = True

    if data.get("subscription") is not None:
        changed |= _import_subscription(record, account, data["subscription"], report, now=now)

    entries = data.get("contacts", [])
    if not isinstance(entries, list):
        raise _problem(record, "contacts", "expected a list of contacts")
    designated: list[Located] = []  # where the file made someone a point of contact
    for index, entry in enumerate(entries):
        changed |= _import_contact(
            record, account, index, entry, run, designated=designated, notify=not created
        )
    if designated:
        _check_cap(account, designated, now=now)

    if not created:
        if changed:
            report.accounts_updated += 1
        else:
            report.accounts_unchanged += 1


def _date(record: Located, sub: dict[str, Any], key: str, *, required: bool) -> date | None:
    label = f"subscription.{key}"
    raw = sub.get(key)
    if raw in (None, ""):
        if required:
            raise _problem(record, label, "is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise _problem(record, label, f"{raw!r} is not a date (YYYY-MM-DD)") from None


def _import_subscription(
    record: Located, account: Account, sub: Any, report: ImportReport, *, now: datetime
) -> bool:
    if not isinstance(sub, dict):
        raise _problem(record, "subscription", "expected an object with plan, status, starts, ends")
    plan = sub.get("plan")
    status = sub.get("status") or Subscription.Status.ACTIVE
    if not isinstance(plan, str) or not plan:
        raise _problem(record, "subscription.plan", "is required")
    try:
        check_plan(plan)
    except ValidationError as exc:
        raise _problem(record, "subscription.plan", exc) from None
    if status not in Subscription.Status.values:
        raise _problem(
            record,
            "subscription.status",
            f"{status!r} is not a status ({', '.join(Subscription.Status.values)})",
        )
    starts = _date(record, sub, "starts", required=True)
    ends = _date(record, sub, "ends", required=False)
    assert starts is not None
    latest = account.subscriptions.order_by("-id").first()
    if latest is not None and (latest.plan, latest.status, latest.starts, latest.ends) == (
        plan,
        status,
        starts,
        ends,
    ):
        return False
    try:
        actions.record_subscription(
            account=account, plan=plan, status=status, starts=starts, ends=ends,
            note="imported", now=now,
        )
    except ValidationError as exc:
        key = next(iter(getattr(exc, "message_dict", {"plan": None})), "plan")
        raise _problem(record, f"subscription.{key}", exc) from None
    report.subscriptions_recorded += 1
    return True


def _check_cap(account: Account, designated: list[Located], *, now: datetime) -> None:
    """Refuse the file if it leaves the account over its plan's cap (counted once all of
    the account's rows are applied, so a file may swap one point of contact for another).
    An account already over a lowered cap keeps its points of contact unless the file adds
    one. The message names the first designation beyond the cap."""
    cap = point_of_contact_cap(account, at=now)
    if cap.limit is None:
        return
    total = count_points_of_contact(account)
    if total <= cap.limit:
        return
    over = designated[max(0, len(designated) - (total - cap.limit))]
    raise _problem(
        over,
        "point_of_contact",
        f"{cap.plan_name} allows at most {cap.limit} points of contact, and this file would "
        f"give {account.name} {total}: revoke one first (nothing was changed).",
    )


def _import_contact(
    record: Located,
    account: Account,
    index: int,
    entry: Any,
    run: _Run,
    *,
    designated: list[Located],
    notify: bool,
) -> bool:
    report, now = run.report, run.now
    where = entry.get("_where") if isinstance(entry, dict) else None
    prefix = f"contacts[{index}]"
    contact_record = Located(entry if isinstance(entry, dict) else {}, where or record.where)
    if where:
        contact_record.fields = {
            "email": "column contact_email",
            "name": "column contact_name",
            "phone": "column contact_phone",
            "point_of_contact": "column point_of_contact",
        }
    else:
        contact_record.fields = {k: f"{prefix}.{k}" for k in (
            "email", "name", "phone", "point_of_contact", "account_owner", "active")}
    if not isinstance(entry, dict):
        raise _problem(record, prefix, "expected an object")
    email_raw = _text(contact_record, entry, "email", required=True)
    name = _text(contact_record, entry, "name", required=False)
    phone_raw = _text(contact_record, entry, "phone", required=False)
    flags: dict[str, bool | None] = {}
    for key in ("point_of_contact", "account_owner", "active"):
        value = entry.get(key)
        if value is not None and not isinstance(value, bool):
            raise _problem(contact_record, key, "expected true or false")
        flags[key] = value
    try:
        email = check_email(email_raw)
    except ValidationError as exc:
        raise _problem(contact_record, "email", exc) from None
    try:
        phone = check_phone(phone_raw)
    except ValidationError as exc:
        raise _problem(contact_record, "phone", exc) from None

    contact = Contact.objects.select_for_update(of=("self",)).select_related("user").filter(email=email).first()
    if contact is not None and contact.account_id != account.pk:
        raise _problem(
            contact_record,
            "email",
            f"{email} is already a contact of another account ({contact.account.slug})",
        )
    was = contacts.contact_state(contact) if contact is not None else None
    active, point, owner = _roles_wanted(contact_record, flags, was)
    changed = False
    try:
        if contact is None:
            check_contact_email(email)
            contact = actions.add_contact(account=account, email=email, name=name, phone=phone, now=now)
            report.contacts_created += 1
            changed = True
            if not active:
                contact = actions.update_contact(contact=contact, is_active=False)
            _event(run, account, contact, AccountEvent.Kind.CONTACT_ADDED, {}, notify=False)
        else:
            details: dict[str, Any] = {}
            if name and contact.name != name:
                details["name"] = name
            if phone and contact.phone != phone:
                details["phone"] = phone
            if details:
                actions.update_contact(contact=contact, **details)
                changed = True
    except ValidationError as exc:
        key = next(iter(getattr(exc, "message_dict", {"email": None})), "email")
        raise _problem(contact_record, key, exc) from None
    contact.account = account

    # The roles, one event per change, in the order the actions would make them.
    assert was is None or contact.is_active == was["active"]
    if contact.is_active and not active:  # removed: loses its roles and login
        before = contacts.contact_state(contact)
        actions.update_contact(
            contact=contact, is_active=False, is_point_of_contact=False, is_account_owner=False
        )
        _event(run, account, contact, AccountEvent.Kind.CONTACT_REMOVED, before,
               notify=notify and before["point_of_contact"])
        changed = True
    elif not contact.is_active and active:  # brought back (without roles unless the file says)
        before = contacts.contact_state(contact)
        actions.update_contact(contact=contact, is_active=True)
        _event(run, account, contact, AccountEvent.Kind.CONTACT_ADDED, before, notify=False)
        changed = True
    if contact.is_point_of_contact != point:
        before = contacts.contact_state(contact)
        actions.update_contact(contact=contact, is_point_of_contact=point)
        kind = (AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED if point
                else AccountEvent.Kind.POINT_OF_CONTACT_REVOKED)
        _event(run, account, contact, kind, before, notify=notify)
        if point:
            designated.append(contact_record)
        changed = True
    if contact.is_account_owner != owner:
        before = contacts.contact_state(contact)
        actions.update_contact(contact=contact, is_account_owner=owner)
        kind = AccountEvent.Kind.OWNER_SET if owner else AccountEvent.Kind.OWNER_UNSET
        _event(run, account, contact, kind, before, notify=False)
        changed = True
    if changed and was is not None:
        report.contacts_updated += 1
    return changed


def _roles_wanted(
    record: Located, flags: dict[str, bool | None], was: dict[str, Any] | None
) -> tuple[bool, bool, bool]:
    """(active, point of contact, owner) the row asks for; a key left out keeps what the
    contact has (a new contact: active, no roles). A removed contact has no roles, as after
    `contacts.remove_contact`: a row may not remove someone and give them a role, nor give
    a role to someone who stays removed."""
    current = was or {"active": True, "point_of_contact": False, "owner": False}
    active = current["active"] if flags["active"] is None else flags["active"]
    point = current["point_of_contact"] if flags["point_of_contact"] is None else flags["point_of_contact"]
    owner = current["owner"] if flags["account_owner"] is None else flags["account_owner"]
    if active:
        return True, point, owner
    for key, flag in (("point_of_contact", "point_of_contact"), ("account_owner", "owner")):
        if not flags[key] or (not current["active"] and current[flag]):
            continue  # not asked, or removed before with the role still set (older data): as is
        role = "a point of contact" if flag == "point_of_contact" else "an account owner"
        raise _problem(
            record, key,
            f"a removed contact (active: false) cannot be {role}; "
            "give active: true to bring them back",
        )
    if current["active"]:  # removed now: the roles go
        return False, False, False
    return False, point, owner


def _event(
    run: _Run, account: Account, contact: Contact, kind: str, before: dict[str, Any], *, notify: bool
) -> None:
    contacts.record_imported_change(
        account=account, kind=kind, by=run.by, contact=contact, before=before, now=run.now,
        notify=notify and kind in contacts.POINT_OF_CONTACT_KINDS + (AccountEvent.Kind.CONTACT_REMOVED,),
    )
    run.report.events_recorded += 1


# --- export ----------------------------------------------------------------------------------


def export_accounts() -> dict[str, Any]:
    """Every account in the import shape; `subscription` is the latest recorded row."""
    accounts = (
        Account.objects.order_by("slug")
        .select_related("account_manager", "technical_account_manager")
        .prefetch_related("domains", "contacts", "subscriptions")
    )
    out = []
    for account in accounts:
        entry: dict[str, Any] = {
            "slug": account.slug,
            "name": account.name,
            "domains": sorted(d.domain for d in account.domains.all()),
        }
        if account.allow_subdomains:
            entry["allow_subdomains"] = True
        if account.account_manager is not None:
            entry["account_manager"] = account.account_manager.email
        if account.technical_account_manager is not None:
            entry["technical_account_manager"] = account.technical_account_manager.email
        rows = sorted(account.subscriptions.all(), key=lambda s: s.pk)
        if rows:
            latest = rows[-1]
            entry["subscription"] = {
                "plan": latest.plan,
                "status": latest.status,
                "starts": latest.starts.isoformat(),
                "ends": latest.ends.isoformat() if latest.ends else None,
            }
        contacts = []
        for contact in sorted(account.contacts.all(), key=lambda c: c.email):
            item: dict[str, Any] = {
                "email": contact.email,
                "name": contact.name,
                "point_of_contact": contact.is_point_of_contact,
            }
            if contact.phone:
                item["phone"] = contact.phone
            if contact.is_account_owner:
                item["account_owner"] = True
            if not contact.is_active:
                item["active"] = False
            contacts.append(item)
        entry["contacts"] = contacts
        out.append(entry)
    return {"accounts": out}
