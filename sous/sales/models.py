"""Models of the sales domain (filled by its sync issue)."""
