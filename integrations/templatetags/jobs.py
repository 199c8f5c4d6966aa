from django import template

from integrations.services.jobs import kind_label

register = template.Library()


@register.filter
def job_label(job) -> str:
    """{{ job|job_label }}: "Sales sync", never "square.sales"."""
    return kind_label(job)
