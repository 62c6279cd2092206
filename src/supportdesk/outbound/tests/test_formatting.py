from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import translation

from supportdesk.outbound.formatting import format_due, language_from_headers, zone_abbreviation

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def test_it_formats_a_due_time_in_the_coverage_zone():
    with translation.override("en"):
        assert (
            format_due(datetime(2026, 11, 30, 18, 0, tzinfo=UTC), SAO_PAULO)
            == "Mon 30 Nov, 15:00 BRT"
        )


def test_it_formats_a_due_time_in_portuguese():
    with translation.override("pt-br"):
        assert (
            format_due(datetime(2026, 11, 30, 18, 0, tzinfo=UTC), SAO_PAULO)
            == "Seg, 30 de nov, 15:00 BRT"
        )


def test_it_names_brazilian_summer_time_of_the_past():
    # Brazil kept DST until 2019: 15 January 2018 was -02.
    assert zone_abbreviation(datetime(2018, 1, 15, 12, 0, tzinfo=UTC), SAO_PAULO) == "BRST"


def test_it_uses_the_zone_database_abbreviation_when_it_has_letters():
    assert zone_abbreviation(datetime(2026, 7, 1, tzinfo=UTC), ZoneInfo("Europe/Berlin")) == "CEST"


def test_it_falls_back_to_the_offset():
    assert (
        zone_abbreviation(datetime(2026, 7, 1, tzinfo=UTC), ZoneInfo("Asia/Dubai")) == "UTC+04:00"
    )
    assert (
        zone_abbreviation(
            datetime(2026, 7, 1, tzinfo=UTC), ZoneInfo("America/Argentina/Buenos_Aires")
        )
        == "UTC-03:00"
    )


def test_it_reads_the_requesters_language_from_the_mail():
    assert language_from_headers({"Content-Language": "pt-BR"}) == "pt-br"
    assert language_from_headers([("Accept-Language", "de-DE, pt;q=0.8")]) == "pt-br"
    assert language_from_headers({"Content-Language": "en-US"}) == "en"
    assert language_from_headers({"Content-Language": "de"}) is None
