"""The campaigns service's HTTP API, one module per audience: `managers` (role manager) and `public`
(no token); `schemas` (request and response shapes) and `errors` (which problem each domain exception is)."""
