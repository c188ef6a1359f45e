"""ganbuilder."""
