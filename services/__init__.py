"""Guichet's services: campaigns, registrations, allocation, notifications."""
