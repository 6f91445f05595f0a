"""What the registrations worker runs: the event handlers (`events`) and the guard keeper (`guard_keeper`)."""
