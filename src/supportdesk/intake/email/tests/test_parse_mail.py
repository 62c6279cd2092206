"""The parser's rules on hand-made mail: sender, spoofing, HTML, limits, loops."""

from __future__ import annotations

import time

import pytest

from supportdesk.intake.email.digest import content_digest
from supportdesk.intake.email.mime import MAX_DEPTH, MAX_PARTS, parse_mail


def mail(headers: str, body: str = "Hello, the export is broken.\n") -> bytes:
    head = headers.strip("\n").replace("\n", "\r\n")
    return (head + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


BASIC = """From: Ana Souza <ana@acme.io>
To: support@supportdesk.localhost
Subject: Export broken
Message-ID: <m1@acme.io>
Date: Mon, 30 Nov 2026 12:00:00 -0300"""


def test_it_reads_the_one_sender():
    parsed = parse_mail(mail(BASIC))
    assert parsed.sender.address == "ana@acme.io"
    assert parsed.sender.name == "Ana Souza"
    assert parsed.sender.domain == "acme.io"
    assert parsed.subject == "Export broken"
    assert parsed.message_id == "m1@acme.io"
    assert parsed.text.startswith("Hello, the export")
    assert parsed.automatic.acknowledge


@pytest.mark.parametrize(
    ("from_lines", "reason"),
    [
        ("From: ana@acme.io\nFrom: eve@evil.test", "2 From headers"),
        ("From: ana@acme.io, eve@evil.test", "2 addresses"),
        ('From: "ana@acme.io" <eve@evil.test>', "display name contains a different address"),
        ("From: =?utf-8?q?ana=40acme=2Eio?= <eve@evil.test>", "display name contains a different address"),
        ('From: "ana@acme.io"', "reads differently"),
        ("To: support@x.test", "no From header"),
        ("From: undisclosed-recipients:;", "no address"),
    ],
)
def test_it_refuses_to_pick_a_sender_from_an_ambiguous_from(from_lines, reason):
    parsed = parse_mail(mail(from_lines + "\nSubject: hi"))
    assert parsed.sender.address is None
    assert reason in parsed.sender.ambiguous_reason
    assert parsed.problems


def test_it_accepts_a_display_name_repeating_the_same_address():
    parsed = parse_mail(mail('From: "ana@acme.io" <ANA@acme.io>\nSubject: hi'))
    assert parsed.sender.address == "ana@acme.io"


def test_it_ignores_our_control_headers_coming_from_outside():
    parsed = parse_mail(mail(BASIC + "\nX-Supportdesk-Ticket: 1\nX-Supportdesk-Queue: customer"))
    assert parsed.ignored_headers == ["X-Supportdesk-Ticket", "X-Supportdesk-Queue"]


AR = "Authentication-Results: {}"


def _auth(*results: str, authserv_id: str = "mx.desk.test"):
    headers = BASIC + "".join("\n" + AR.format(r) for r in results)
    return parse_mail(mail(headers), authserv_id=authserv_id).authentication


def test_it_trusts_the_domain_alone_when_no_authserv_id_is_configured():
    assert _auth(authserv_id="").status == "not_configured"


def test_it_authenticates_dmarc_pass_aligned_with_from():
    auth = _auth("mx.desk.test; spf=pass smtp.mailfrom=acme.io; dmarc=pass header.from=acme.io")
    assert auth.passed


def test_it_counts_only_the_topmost_header_of_our_mta():
    # The attacker's own "pass" sits below our MTA's verdict and must not count.
    auth = _auth(
        "mx.desk.test; dmarc=fail header.from=acme.io",
        "mx.desk.test; dmarc=pass header.from=acme.io",
    )
    assert not auth.passed


def test_it_ignores_authentication_results_from_other_servers():
    auth = _auth("mx.evil.test; dmarc=pass header.from=acme.io")
    assert not auth.passed and "no Authentication-Results header from" in auth.reason


def test_it_requires_dmarc_alignment_with_the_from_domain():
    auth = _auth("mx.desk.test; dmarc=pass header.from=evil.test")
    assert not auth.passed


def test_it_fails_a_garbled_header_of_our_mta():
    assert not _auth("mx.desk.test; dmarc=").passed


HTML = """From: ana@acme.io
Subject: pic
MIME-Version: 1.0
Content-Type: multipart/related; boundary="b"

--b
Content-Type: text/html; charset=utf-8

<p onclick="x()">Hi<script>alert(1)</script></p>
<img src="https://tracker.test/pixel.gif"><img src="cid:logo@acme"><img src="cid:other@elsewhere">
<a href="javascript:alert(1)">x</a><div style="background:url(https://t.test/a)">y</div>
--b
Content-Type: image/png
Content-ID: <logo@acme>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b--
"""


def test_it_sanitises_html_and_never_keeps_remote_images():
    parsed = parse_mail(HTML.replace("\n", "\r\n").encode())
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert "tracker.test" not in parsed.html and "t.test" not in parsed.html
    assert "javascript:" not in parsed.html
    assert 'src="cid:logo@acme"' in parsed.html
    assert "cid:other@elsewhere" not in parsed.html
    assert parsed.text.strip().startswith("Hi")
    [image] = parsed.attachments
    assert image.content_id == "logo@acme" and image.data.startswith(b"\x89PNG")


def test_it_decodes_rfc2231_and_encoded_attachment_names():
    raw = (
        b"From: ana@acme.io\nSubject: f\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee\n'
        b"--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=utf-8''relat%C3%B3rio%20final.pdf\n\n%PDF\n"
        b"--b\nContent-Type: text/csv; name=\"=?utf-8?q?pre=C3=A7os.csv?=\"\n"
        b"Content-Disposition: attachment\n\na,b\n--b--\n"
    )
    parsed = parse_mail(raw)
    assert [a.filename for a in parsed.attachments] == ["relatório final.pdf", "preços.csv"]
    assert parsed.attachments[0].content_type == "application/pdf"


def test_it_bounds_thousands_of_parts():
    parts = "".join(f"--b\nContent-Type: text/plain\n\npart {i}\n" for i in range(5000))
    raw = f"From: ana@acme.io\nSubject: many\nContent-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n"
    started = time.process_time()
    parsed = parse_mail(raw.encode())
    assert time.process_time() - started < 5
    assert any(str(MAX_PARTS) in p for p in parsed.problems)
    assert parsed.sender.address == "ana@acme.io"


def test_it_bounds_deep_nesting():
    depth = MAX_DEPTH + 40
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    closing = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    raw = f"From: ana@acme.io\nSubject: deep\n{opening}Content-Type: text/plain\n\ncore{closing}"
    parsed = parse_mail(raw.encode())
    assert any("nested deeper" in p for p in parsed.problems)


def test_it_bounds_megabyte_headers():
    raw = mail(BASIC + "\nX-Junk: " + "a" * 2_000_000)
    started = time.process_time()
    parsed = parse_mail(raw)
    assert time.process_time() - started < 5
    assert any("headers larger" in p for p in parsed.problems)
    assert parsed.sender.address == "ana@acme.io"


def test_it_bounds_a_megabyte_subject():
    parsed = parse_mail(mail(BASIC.replace("Export broken", "x" * 1_000_000)))
    assert len(parsed.subject) <= 16 * 1024


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        ("Auto-Submitted: auto-replied", "auto_reply"),
        ("Auto-Submitted: auto-generated", "auto_generated"),
        ("Precedence: bulk", "bulk"),
        ("Precedence: junk", "bulk"),
        ("List-Id: <dev.lists.acme.io>", "bulk"),
        ("X-Auto-Response-Suppress: All", "auto_generated"),
        ("Return-Path: <>", "auto_generated"),
    ],
)
def test_it_marks_automatic_mail_so_it_gets_no_acknowledgement(extra, kind):
    parsed = parse_mail(mail(BASIC + "\n" + extra))
    assert parsed.automatic.kind == kind
    assert not parsed.automatic.acknowledge


def test_it_treats_noreply_senders_as_unanswerable():
    parsed = parse_mail(mail(BASIC.replace("ana@acme.io", "no-reply@acme.io")))
    assert parsed.automatic.kind == "noreply" and not parsed.automatic.acknowledge
    assert parsed.automatic.opens_ticket


def test_it_recognises_our_own_mail_coming_back():
    raw = mail(BASIC.replace("ana@acme.io", "support@supportdesk.localhost"))
    parsed = parse_mail(raw, own_addresses=("support@supportdesk.localhost",))
    assert parsed.automatic.kind == "loop" and not parsed.automatic.opens_ticket


def test_it_reads_a_null_envelope_sender_from_smtp():
    parsed = parse_mail(mail(BASIC), envelope_sender="")
    assert not parsed.automatic.acknowledge


def test_it_gives_the_same_digest_to_one_mail_delivered_by_two_routes():
    smtp = mail("Received: from a.test by mx1\nReturn-Path: <ana@acme.io>\n" + BASIC)
    imap = mail(
        "Received: from b.test by mx2\nDelivered-To: support@x\nX-Original-To: s@x\n"
        "Authentication-Results: mx2; dmarc=pass\nDKIM-Signature: v=1\n" + BASIC
    ).replace(b"\r\n", b"\n")
    assert content_digest(smtp) == content_digest(imap)


def test_it_gives_another_digest_to_a_different_mail_reusing_the_message_id():
    first = mail(BASIC)
    forged = mail(BASIC.replace("ana@acme.io", "eve@evil.test"))
    assert content_digest(first) != content_digest(forged)
    assert content_digest(first) != content_digest(mail(BASIC, body="Other text\n"))


def test_it_never_takes_a_persons_mail_about_failed_delivery_for_a_bounce():
    raw = mail(
        BASIC.replace("Export broken", "Mail delivery failed for our users"),
        body="Since the upgrade we get: 550 5.1.1 <x@acme.io>... User unknown\n",
    )
    parsed = parse_mail(raw)
    assert parsed.automatic.opens_ticket and parsed.automatic.acknowledge


def test_it_never_takes_a_persons_forwarded_attachment_for_a_report():
    raw = (
        b"From: ana@acme.io\nSubject: Spam report: phishing we received, and a rejected mail\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nPlease look at the attached; we got 550 user unknown too.\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: x@evil.example\nSubject: win\n\nclick\n--b--\n"
    )
    parsed = parse_mail(raw)
    assert parsed.automatic.opens_ticket and parsed.automatic.acknowledge


@pytest.mark.parametrize("subject", ["Vacation request app fails", "Out of office status not saved",
                                      "Auto reply rules ignored"])
def test_it_never_takes_a_person_writing_about_absences_for_an_auto_reply(subject):
    parsed = parse_mail(mail(BASIC.replace("Export broken", subject)))
    assert parsed.automatic.kind == "" and parsed.automatic.acknowledge


def test_it_recognises_an_auto_reply_by_its_prefix():
    parsed = parse_mail(mail(BASIC.replace("Export broken", "Automatic reply: Export broken")))
    assert parsed.automatic.kind == "auto_reply"


def test_it_only_withholds_the_acknowledgement_for_x_loop_naming_us():
    # A forwarding rule at our own MTA stamps X-Loop on real customer mail.
    raw = mail(BASIC + "\nX-Loop: support@supportdesk.localhost")
    parsed = parse_mail(raw, own_addresses=("support@supportdesk.localhost",))
    assert parsed.automatic.opens_ticket and not parsed.automatic.acknowledge
