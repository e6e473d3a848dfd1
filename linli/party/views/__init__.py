"""Party pages: resident (check-in, my hours, certificates), public (teams, verification), staff (manage)."""
