from email import message_from_bytes

import pytest

from supportdesk.outbound.headers import (
    LOOP_HEADER,
    is_noreply_address,
    is_our_own_mail,
    loop_header_value,
    normalise_message_id,
    parse_message_ids,
)


def test_our_loop_header_is_recognised_on_its_own_message_id():
    headers = {
        "Message-ID": "<sd.1@supportdesk.localhost>",
        LOOP_HEADER: loop_header_value("<sd.1@supportdesk.localhost>"),
    }
    assert is_our_own_mail(headers)


def test_a_loop_header_copied_onto_another_message_is_not_ours():
    stolen = loop_header_value("<sd.1@supportdesk.localhost>")
    assert not is_our_own_mail({"Message-ID": "<attacker@evil.example>", LOOP_HEADER: stolen})


def test_another_installations_loop_header_is_not_ours(settings):
    value = loop_header_value("<a@b>")
    settings.SUPPORTDESK_INSTANCE_ID = "another-desk"
    assert not is_our_own_mail([("Message-ID", "<a@b>"), (LOOP_HEADER, value)])


def test_it_reads_the_headers_returned_inside_a_bounce():
    value = loop_header_value("<sd.9@supportdesk.localhost>")
    returned = message_from_bytes(
        b"From: support@supportdesk.localhost\r\nMessage-ID: <sd.9@supportdesk.localhost>\r\n"
        + f"{LOOP_HEADER}: {value}\r\n\r\nbody".encode()
    )
    assert is_our_own_mail(returned)


def test_mail_without_our_header_is_not_ours():
    assert not is_our_own_mail({"Message-ID": "<a@b>"})
    assert not is_our_own_mail({})


@pytest.mark.parametrize(
    ("address", "noreply"),
    [
        ("noreply@github.com", True),
        ("no-reply@accounts.google.com", True),
        ("Example <no_reply@example.com>", True),
        ("DoNotReply@bank.example", True),
        ("do-not-reply@bank.example", True),
        ("mailer-daemon@mx.example", True),
        ("POSTMASTER@example.com", True),
        ("bounce-123@lists.example", True),
        ("noreply+abc@example.com", True),
        ("", True),
        ("Ana <ana@acme.example>", False),
        ("noreen@acme.example", False),
        ("replies@acme.example", False),
    ],
)
def test_it_knows_addresses_nobody_reads(address, noreply):
    assert is_noreply_address(address) is noreply


def test_message_ids_are_canonical():
    assert normalise_message_id(" <ABC@Example.COM> ") == "<abc@example.com>"
    assert normalise_message_id("abc@example.com") == "<abc@example.com>"
    assert normalise_message_id("") is None
    assert parse_message_ids("<a@b>\r\n <c@d> <a@b>") == ["<a@b>", "<c@d>"]
