"""Geodesic distances, vectorised.

geopy's ``geodesic`` (Karney's algorithm on WGS-84) is the reference of the planning
format, but it costs ~20 us per pair in Python. pyproj's ``Geod(ellps="WGS84").inv`` runs
the same algorithm (GeographicLib) in C over numpy arrays; ``tests/test_travel.py``
proves that both agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")
#: Pairs per pyproj call: bounds the temporary arrays to a few MB.
_CHUNK = 1_000_000

FloatArray = npt.NDArray[np.float64]


def geodesic_km(
    lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray
) -> FloatArray:
    """Element-wise geodesic distance in km between points a[i] and b[i]."""
    distances = np.empty(len(lat_a), dtype=np.float64)
    for offset in range(0, len(lat_a), _CHUNK):
        chunk = slice(offset, offset + _CHUNK)
        _, _, metres = _WGS84.inv(lon_a[chunk], lat_a[chunk], lon_b[chunk], lat_b[chunk])
        distances[chunk] = metres
    return distances / 1000.0


def geodesic_km_matrix(lats: FloatArray, lons: FloatArray) -> FloatArray:
    """Symmetric matrix of geodesic km between all points (each pair computed once)."""
    count = len(lats)
    matrix = np.zeros((count, count), dtype=np.float64)
    if count < 2:
        return matrix
    rows, cols = np.triu_indices(count, k=1)
    distances = geodesic_km(lats[rows], lons[rows], lats[cols], lons[cols])
    matrix[rows, cols] = distances
    matrix[cols, rows] = distances
    return matrix
