"""Import and export of layers as files (GeoPackage, GeoJSON, FlatGeobuf, Shapefile, CSV)."""
