"""The times every list shows: written as Django's date formatting would, in each language."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import formats, translation
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.web.templatetags.desk import MOMENT_FORMAT, moment_text

# hypothesis bounds its datetimes with naive ones; the test makes each aware (UTC).
FIRST, LAST = datetime(1, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001


@given(st.datetimes(min_value=FIRST, max_value=LAST), st.sampled_from(["en", "pt-br"]))
def test_a_moment_reads_as_djangos_date_format_writes_it(moment, language):
    local = moment.replace(tzinfo=UTC)
    with translation.override(language):
        assert moment_text(local) == formats.date_format(local, MOMENT_FORMAT)


def test_the_names_follow_the_language():
    moment = datetime(2026, 2, 3, 9, 5, tzinfo=UTC)  # a Tuesday in February
    with translation.override("en"):
        assert moment_text(moment) == "Tue 03 Feb 2026, 09:05"
    with translation.override("pt-br"):
        assert moment_text(moment) == "Ter 03 Fev 2026, 09:05"
