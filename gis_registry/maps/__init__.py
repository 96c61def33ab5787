"""Folium map builders (folium is imported only in this package)."""
