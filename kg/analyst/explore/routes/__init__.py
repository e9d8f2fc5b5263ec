"""The explorer's routes, one router per concern; :func:`kg.analyst.explore.app.create_app` includes them.

- :mod:`.pages`: the page, ``/health`` (the static assets are mounted by the app)
- :mod:`.guide`: the Neo4j Browser guide and its favourites zip (CORS open)
- :mod:`.search`: ``/api/search``
- :mod:`.nodes`: ``/api/neighbourhood``
- :mod:`.queries`: ``/api/queries``, the query library (list, run, CSV)
"""
