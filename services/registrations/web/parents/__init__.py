"""What parents call: their applications (`applications.blp`) and their household (`household.blp`)."""
