"""The web UI (gradio): one module per page, assembled by :mod:`web.app` (and ``ui.py`` at the root).

Each page module exposes ``TITLE`` (the tab's Chinese name), ``ROLES`` (the role keys of
:data:`kb.users.ROLES` that see it) and ``build(ctx, opening)``, which lays out the page inside its tab
and registers its handlers, those that fill it through ``opening.load`` (:mod:`web.opening`). A new
page is a new module plus one line in :data:`web.app.PAGES`.
"""
