"""What the campaigns worker runs besides its outbox relay: the window scheduler (a periodic job) and
the consumer of allocation's `offer.places_given` announcements."""
