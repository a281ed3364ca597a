from django.urls import path

from apps.kyc.api import views

urlpatterns = [
    path("players/<str:external_id>/kyc/", views.KycView.as_view(), name="kyc-overview"),
    path("players/<str:external_id>/kyc/documents/", views.DocumentUploadView.as_view(), name="kyc-document-upload"),
    path("kyc/vendors/<slug:slug>/events/", views.VendorEventView.as_view(), name="kyc-vendor-event"),
]
