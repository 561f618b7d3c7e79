"""People who sign in: creating users and checking passwords (users), login lockout (logins), personal
API tokens (apitokens).

Who may do what is a rule of the programme and lives in engine.domain.roles; this package stores people.
"""
