"""Models of the catalog domain (filled by its sync issue)."""
