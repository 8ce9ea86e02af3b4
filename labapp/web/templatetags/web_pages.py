"""Tags for pages rendered without a view of ours to fill their context (the 404 page)."""

from django import template

from labapp.courses.models import Course

register = template.Library()


@register.simple_tag
def all_courses():
    """The courses, for the 404 page's "where to go from here" links. A failing database must not turn
    a 404 into a 500, so any error gives no course links."""
    try:
        return list(Course.objects.order_by("title").only("slug", "title"))
    except Exception:  # noqa: BLE001 - the 404 page must render whatever happened
        return []
