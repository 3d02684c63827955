"""gonghui's own infrastructure package: config, database, web, auth, events.

Nothing here knows a business rule; every service builds on it the same way.
"""
