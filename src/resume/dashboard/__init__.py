"""The sales team's services, below the web: accounts and sign-in, the lead list and a lead's
page, and what staff do about a lead. Nothing here imports Litestar."""
