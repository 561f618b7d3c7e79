"""`cpe bench`: engine timings (suite), pages through Flask's test client (pages) and HTTP load against
a real gunicorn server (http_load); bench/RESULTS.md keeps the figures.
"""
