"""The staff dashboard's controllers: sign-in and accounts, the lead list, a lead's page and
what staff do on it, the audit. Thin: each reads the request, calls a service of
resume.dashboard, and responds; the staff session rides in a first-party cookie."""
