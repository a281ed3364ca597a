from django.urls import path

from apps.responsible.api import views

P = "players/<str:external_id>/"
urlpatterns = [
    path(f"{P}responsible-gambling/", views.OverviewView.as_view(), name="rg-overview"),
    path(f"{P}responsible-gambling/limits/", views.LimitsView.as_view(), name="rg-limits"),
    path(
        f"{P}responsible-gambling/limits/<int:change_id>/confirm/",
        views.LimitConfirmView.as_view(),
        name="rg-limit-confirm",
    ),
    path(f"{P}responsible-gambling/time-out/", views.TimeOutView.as_view(), name="rg-time-out"),
    path(f"{P}responsible-gambling/self-exclusion/", views.SelfExclusionView.as_view(), name="rg-self-exclusion"),
    path(
        f"{P}responsible-gambling/self-exclusion/return-request/",
        views.ReturnRequestView.as_view(),
        name="rg-return-request",
    ),
]
