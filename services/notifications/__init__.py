"""The notifications service: tells families of every decision about their applications (in-app inbox,
email, letter), reminds them before an offered place expires and when a campaign they follow opens,
and shows managers what could not be delivered and the letters to print."""
