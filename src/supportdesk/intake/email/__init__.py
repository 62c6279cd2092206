"""The email channel: raw mail in (SMTP/LMTP, pipe, IMAP), one InboundRequest out.

Every path stores the raw bytes first (`store`), then parses (`mime`), decides who
wrote (`senders`, `authentication`), whether the mail is automatic (`automatic`), and
hands the result to the one intake service (`process`).
"""
