"""Dates and languages as the customer reads them.

A due time is shown in the coverage calendar's own zone with that zone's usual
abbreviation ("Mon 30 Nov, 15:00 BRT"), because that is the clock the promise is kept
on. The time-zone database spells many zones' abbreviations as bare offsets ("-03");
for those we use the customary letters where they are well known, else "UTC-03:00".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import gettext as django_gettext

# Customary abbreviations of zones whose tzdata abbreviation is numeric, by UTC offset
# (the offset picks standard or summer time, so history and DST stay right).
_H = timedelta(hours=1)
_BRASILIA = {-3 * _H: "BRT", -2 * _H: "BRST"}
_AMAZON = {-4 * _H: "AMT", -3 * _H: "AMST"}
_KNOWN_ABBREVIATIONS: dict[str, dict[timedelta, str]] = {
    **dict.fromkeys(
        (
            "America/Sao_Paulo",
            "America/Bahia",
            "America/Fortaleza",
            "America/Recife",
            "America/Belem",
            "America/Maceio",
            "America/Araguaina",
            "America/Santarem",
            "Brazil/East",
        ),
        _BRASILIA,
    ),
    **dict.fromkeys(
        (
            "America/Manaus",
            "America/Cuiaba",
            "America/Campo_Grande",
            "America/Porto_Velho",
            "America/Boa_Vista",
            "Brazil/West",
        ),
        _AMAZON,
    ),
    "America/Noronha": {-2 * _H: "FNT", -1 * _H: "FNST"},
    "America/Rio_Branco": {-5 * _H: "ACT", -4 * _H: "ACST"},
    "America/Eirunepe": {-5 * _H: "ACT", -4 * _H: "ACST"},
}


_remembered: ContextVar[dict[str, str] | None] = ContextVar("outbound_messages", default=None)


@contextmanager
def language_for_many(language: str) -> Iterator[None]:
    """`translation.override(language)` for making many texts at once (a batch's
    acknowledgements): inside, each catalogue message is looked up once and remembered,
    where Django's lookup per message was most of the cost of a text. Switch no
    language inside."""
    with translation.override(language):
        token = _remembered.set({})
        try:
            yield
        finally:
            _remembered.reset(token)


def gettext(message: str) -> str:
    """Django's gettext, remembered inside `language_for_many`."""
    remembered = _remembered.get()
    if remembered is None:
        return django_gettext(message)
    found = remembered.get(message)
    if found is None:
        found = remembered[message] = django_gettext(message)
    return found


_ = gettext


def zone_abbreviation(moment: datetime, zone: ZoneInfo) -> str:
    """ "BRT" for São Paulo, "CET"/"CEST" for Berlin, "UTC+05:30"-style when nothing better."""
    local = moment.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    known = _KNOWN_ABBREVIATIONS.get(zone.key, {}).get(offset)
    if known:
        return known
    name = local.tzname() or ""
    if name.isalpha():
        return name
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_due(moment: datetime, zone: ZoneInfo) -> str:
    """ "Mon 30 Nov, 15:00 BRT" in the active language ("Seg, 30 de nov, 15:00 BRT")."""
    local = moment.astimezone(zone)
    # Translators: a due date as PHP-style date format (Django's `date` filter); keep H:i.
    pattern = _("D j M, H:i")
    return f"{dateformat.format(local, pattern)} {zone_abbreviation(moment, zone)}"


def supported_language(code: str | None) -> str | None:
    """Our language code for a requested one ("pt-BR", "pt_br", "pt" -> "pt-br"), or None."""
    if not code:
        return None
    wanted = code.strip().lower().replace("_", "-")
    ours = [lang for lang, _name in settings.LANGUAGES]
    if wanted in ours:
        return wanted
    primary = wanted.split("-")[0]
    for lang in ours:
        if lang.split("-")[0] == primary:
            return lang
    return None


def language_from_headers(
    headers: Message | Mapping[str, str] | Iterable[tuple[str, str]],
) -> str | None:
    """The requester's language from a mail's Content-Language / Accept-Language, if we speak it."""
    pairs = list(headers.items()) if isinstance(headers, Message | Mapping) else list(headers)
    for wanted in ("content-language", "accept-language"):
        for name, value in pairs:
            if name.lower() != wanted:
                continue
            for item in str(value).split(","):
                found = supported_language(item.split(";")[0])
                if found:
                    return found
    return None


def language_or_default(code: str | None) -> str:
    return supported_language(code) or translation.get_supported_language_variant(
        settings.LANGUAGE_CODE
    )
