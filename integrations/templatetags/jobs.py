from django import template

from integrations.services.jobs import kind_label, origin

register = template.Library()


@register.filter
def job_label(job) -> str:
    """{{ job|job_label }}: "Sales sync", never "square.sales"."""
    return kind_label(job)


@register.filter
def job_origin(job) -> str:
    """{{ job|job_origin }}: "Maria, manual", "Command (ops@web-1)"."""
    return origin(job)
