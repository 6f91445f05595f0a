"""The allocation service's HTTP API, one blueprint per audience: managers, parents and the public."""
