"""The portal's pages, by audience: `parents`, `managers`, `sign_in`; with what they share (`access`: who
is signed in and the API clients carrying their token; `csrf`; `campaign_form`; the template `filters`;
the `errors` pages)."""
