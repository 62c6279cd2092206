"""Outgoing mail: one queue, one send path, every Message-ID recorded.

Entry points (import them from their modules; this package imports nothing so that
Django can load it before the app registry is ready):

- `outbound.services`: `send_acknowledgement`, `send_public_reply`, `send_notification`
- `outbound.queue`: `enqueue_mail`, `deliver`, `deliver_due`, `flush`
- `outbound.tags`: the subject tag (`ticket_tag`, `find_ticket_tag`, `tagged_subject`)
- `outbound.headers`: `is_our_own_mail`, `is_noreply_address`, Message-ID helpers
- `outbound.selectors`: `ticket_for_message_ids`, `acknowledgements_sent`

See docs/outbound.md.
"""
