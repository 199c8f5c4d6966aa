from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "sous.orgs"
    label = "orgs"
    verbose_name = "Organisations"
