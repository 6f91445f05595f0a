"""The allocation service: draws a closed campaign's places. Its rules live in `domain/`."""
