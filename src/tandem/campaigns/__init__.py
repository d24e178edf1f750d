"""Campaigns: hold-out assignment, exposures, metrics, lift statistics and uplift."""
