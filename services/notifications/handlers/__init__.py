"""What the notifications worker runs: the event handler that queues notifications, the courier that
delivers them, and the job that queues reminders of offers about to expire."""
