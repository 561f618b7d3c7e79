"""One blueprint per area of the HTML interface, named like the engine feature it shows (the page of
feature X is webapp/pages/X.py); pages never import each other, what they share is webapp.shared.
"""
