"""Admin pieces shared by the domains."""


class ReadOnlyAdminMixin:
    """For rows that only the product writes (imports, connections, jobs, events): the admin
    lists and shows them, but cannot add or change them. Works on ModelAdmin and inlines."""

    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
