"""The Integrations use cases: connect, callback, health, tokens, disconnect, the grid.

Views call exactly one of these and render what it returns; provider errors are translated
here into connection state and messages for staff.
"""
