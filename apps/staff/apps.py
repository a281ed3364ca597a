from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    default = True
    name = "apps.staff"
    label = "staff"
    verbose_name = "Staff and roles"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the 2FA staff site as ``admin.site``: the only admin site there is."""

    default = False
    default_site = "apps.staff.sites.StaffSite"
