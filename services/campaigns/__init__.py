"""Campaigns service: registration campaigns, their offers, application windows and allocation policies."""
