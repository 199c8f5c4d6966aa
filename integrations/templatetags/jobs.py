from django import template

from integrations.jobs.events import kind_label
from integrations.jobs.triggers import origin

register = template.Library()


@register.filter
def job_label(job) -> str:
    """{{ job|job_label }}: "Sales sync", never "square.sales"."""
    return kind_label(job)


@register.filter
def job_origin(job) -> str:
    """{{ job|job_origin }}: "Maria, manual", "Command (ops@web-1)"."""
    return origin(job)


@register.filter
def action_anchor(kind: str) -> str:
    """The drawer section of a job kind: "square.sales" -> "action-square-sales"."""
    return "action-" + kind.replace(".", "-")
