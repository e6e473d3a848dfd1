"""Resources offered by a registered volunteer team carried it as text ("party.VolunteerTeam:12") until the
foreign key existed: point them at the team. Reversible (the text reference comes back)."""

import re

from django.db import migrations

_REF = re.compile(r"^party\.VolunteerTeam:(\d+)$")


def link(apps, schema_editor):
    Resource = apps.get_model("needs", "Resource")
    VolunteerTeam = apps.get_model("party", "VolunteerTeam")
    teams = set(VolunteerTeam.objects.values_list("pk", flat=True))
    for resource in Resource.objects.filter(provider_kind="volunteers", provider_ref__startswith="party."):
        match = _REF.match(resource.provider_ref.strip())
        if match and int(match.group(1)) in teams:
            resource.volunteer_team_id = int(match.group(1))
            resource.provider_ref = ""
            resource.save(update_fields=["volunteer_team", "provider_ref"])


def unlink(apps, schema_editor):
    Resource = apps.get_model("needs", "Resource")
    for resource in Resource.objects.filter(volunteer_team__isnull=False):
        resource.provider_ref = f"party.VolunteerTeam:{resource.volunteer_team_id}"
        resource.volunteer_team_id = None
        resource.save(update_fields=["volunteer_team", "provider_ref"])


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0002_volunteer_teams_visits_services_representatives"),
    ]

    operations = [migrations.RunPython(link, unlink)]
