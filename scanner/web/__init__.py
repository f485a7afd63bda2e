"""The lab's browser workspace (``scanner serve``): server-rendered pages over ``signals.db``.

``app.py`` builds the ASGI app and states the write rule beside the scheduler; ``auth.py`` sessions,
tokens, CSRF and permission checks (the table itself is ``scanner.accounts.ACTIONS``); ``pages.py``
the HTML pages and forms; ``api.py`` the JSON API; ``i18n.py`` the Thai and English catalogs.
"""
