"""What the allocation worker runs: the handlers of its two consumers (`events`) and its periodic jobs (`jobs`)."""
