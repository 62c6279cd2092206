"""supportdesk: a self-hosted support desk for tiered support plans."""

__version__ = "0.1.0"
