"""What a staff account is made of, without the web or the database: password hashing and
rules, TOTP, recovery codes, session tokens and cookies, and what each role may do.

The dashboard (web/dashboard/) and the staff queries call these; nothing here stores anything,
so the caller keeps what a function returns (a hash, a time step, a token's hash).
"""
