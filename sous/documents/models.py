"""Models of the documents domain (filled by its sync issue)."""
