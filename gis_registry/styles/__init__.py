"""Layer styles: each layer's symbology computed once (:mod:`.symbology`, from the palette in
:mod:`.palette`), written as QGIS QML (:mod:`.qml`) or OGC SLD 1.0 (:mod:`.sld`), and a whole
QGIS project (:mod:`.project`)."""
