"""Campaigns: broadcasts to subscribers, their pace and progress, figures and posters."""
