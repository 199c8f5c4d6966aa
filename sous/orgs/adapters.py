from allauth.account.adapter import DefaultAccountAdapter


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an organisation's admin (or a command), never by signup."""

    def is_open_for_signup(self, request) -> bool:
        return False
