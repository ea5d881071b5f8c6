"""Auto Scaling: groups (deleted with their instances) and launch configurations."""
