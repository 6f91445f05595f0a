"""The portal: server-rendered pages in French for parents and campaign managers, over the other services' APIs."""
