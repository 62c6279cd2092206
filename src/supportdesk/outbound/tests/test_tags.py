import pytest

from supportdesk.outbound.tags import find_ticket_tag, tagged_subject, ticket_tag


def test_it_formats_the_tag():
    assert ticket_tag(1234) == "[#1234]"


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("[#1234] Printer on fire", 1234),
        ("RE: AW: [#1234] Printer on fire", 1234),
        ("Re: Printer on fire [#77]", 77),
        ("[#12] and [#13]", 12),
        ("Printer on fire", None),
        ("[#0] zero is no ticket", None),
        ("[# 12] spaced", None),
        ("#1234 without brackets", None),
        ("", None),
        (None, None),
    ],
)
def test_it_finds_the_tag(subject, number):
    assert find_ticket_tag(subject) == number


def test_it_tags_a_subject_once():
    assert tagged_subject(1234, "Printer on fire") == "[#1234] Printer on fire"
    assert tagged_subject(1234, "Re: [#1234] Printer on fire") == "[#1234] Printer on fire"
    assert (
        tagged_subject(1234, "RE: Fwd: Printer  on\tfire", reply=True)
        == "Re: [#1234] Printer on fire"
    )


def test_it_keeps_another_tickets_tag():
    assert tagged_subject(5, "[#4] old problem") == "[#5] [#4] old problem"


def test_the_tag_survives_an_empty_subject():
    assert tagged_subject(5, "") == "[#5]"
