from supportdesk.web.testing import chromium, page  # noqa: F401  (fixtures)
