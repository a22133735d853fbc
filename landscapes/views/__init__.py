"""The page-settings layer: each page's settings value, presets, the URL round trip, the
Explorer's runs and the exports. Imports only the core.
"""
