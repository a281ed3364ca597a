from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    default = True
    name = "apps.staff"
    label = "staff"
    verbose_name = "Staff and roles"

    def ready(self) -> None:
        from apps.core.demo import register_access, register_seeder
        from apps.staff.demo import demo_administrator, seed_staff

        register_seeder("staff", seed_staff, order=10)  # one demo member per role
        register_access("staff", demo_administrator, order=10)


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the 2FA staff site as ``admin.site``: the only admin site there is."""

    default = False
    default_site = "apps.staff.sites.StaffSite"
