//! Open311 GeoReport v2 end to end (written below).
