"""``{% kyc_queue_rows cl %}``: the review queue's table, rows built by apps.kyc.admin.rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.views.main import ChangeList
from unfold.templatetags import unfold_list

register = template.Library()


@register.inclusion_tag("admin/players/player/change_list_rows.html", takes_context=True)
def kyc_queue_rows(context: Any, cl: ChangeList) -> dict[str, Any]:
    # imported here: template libraries load while unfold.admin itself is being imported (a widget it renders at
    # import time), and apps.kyc.admin imports unfold.admin
    from apps.kyc.admin import rows

    if not rows.supported(cl):  # unfold renders what is not built here
        return {**unfold_list.result_list(context, cl), "by_unfold": True}
    return rows.result_list(context, cl)
