"""Views: INFORMATION_SCHEMA and the history and storage views built per statement."""
