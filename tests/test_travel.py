"""scheduler.travel agrees with geopy's geodesic, the planning format's reference;
rules.TravelParams turns km into whole minutes as the format says."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geopy.distance import geodesic

import scheduler.travel as travel
from scheduler.rules import TravelParams
from scheduler.travel import geodesic_km, geodesic_km_matrix

#: 1 mm: both are Karney's algorithm on WGS-84, so they agree to rounding.
TOLERANCE_KM = 1e-6

Point = tuple[float, float]


def reference_km(a: Point, b: Point) -> float:
    return float(geodesic(a, b).km)


def vectorised_km(pairs: list[tuple[Point, Point]]) -> np.ndarray:
    a = np.array([p[0] for p in pairs], dtype=np.float64)
    b = np.array([p[1] for p in pairs], dtype=np.float64)
    return geodesic_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])


def germany(rng: np.random.Generator, count: int) -> list[Point]:
    lats = rng.uniform(47.27, 55.06, count)
    lons = rng.uniform(5.87, 15.04, count)
    return [(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]


# ------------------------------------------------------------------------ geodesic_km


def test_random_pairs_across_germany_agree_with_geopy() -> None:
    rng = np.random.default_rng(20261130)
    a, b = germany(rng, 500), germany(rng, 500)
    pairs = list(zip(a, b, strict=True))
    got = vectorised_km(pairs)
    assert got.shape == (500,)
    assert got.dtype == np.float64
    for (p, q), km in zip(pairs, got, strict=True):
        assert km == pytest.approx(reference_km(p, q), abs=TOLERANCE_KM), (p, q)


def test_short_local_legs_agree_with_geopy() -> None:
    """Legs of a few hundred metres to a few km, as between households of one town."""
    rng = np.random.default_rng(7)
    centre = np.array([51.8367, 8.0311])
    a = centre + rng.normal(0, 0.02, (200, 2))
    b = a + rng.normal(0, 0.005, (200, 2))
    got = geodesic_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    for p, q, km in zip(a, b, got, strict=True):
        assert km == pytest.approx(reference_km(tuple(p), tuple(q)), abs=TOLERANCE_KM)
    assert got.max() < 5


EXTREMES: dict[str, tuple[Point, Point]] = {
    "identical": ((51.8367, 8.0311), (51.8367, 8.0311)),
    "identical at the origin": ((0.0, 0.0), (0.0, 0.0)),
    "a nanodegree apart": ((51.0, 8.0), (51.0 + 1e-9, 8.0)),
    "antipodal-ish on the equator": ((0.0, 0.0), (0.5, 179.7)),
    "nearly antipodal": ((51.8367, 8.0311), (-51.8, -171.9)),
    "exactly antipodal on the equator": ((0.0, 0.0), (0.0, 180.0)),
    "pole to pole": ((90.0, 0.0), (-90.0, 0.0)),
    "across the date line, short": ((0.0, -179.99), (0.0, 179.99)),
    "across the date line, long": ((10.0, 179.9), (-10.0, -179.8)),
    "date line as +180 and -180": ((-16.5, 180.0), (-16.5, -180.0)),
    "near the north pole, across it": ((89.99, 0.0), (89.99, 180.0)),
    "near the south pole": ((-89.9, 10.0), (-89.95, -170.0)),
    "at the north pole": ((90.0, 0.0), (89.0, 45.0)),
    "along a meridian": ((47.27, 10.0), (55.06, 10.0)),
    "along the equator": ((0.0, 5.0), (0.0, 15.0)),
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_extreme_pairs_agree_with_geopy(name: str) -> None:
    a, b = EXTREMES[name]
    expected = reference_km(a, b)
    [got] = vectorised_km([(a, b)])
    assert math.isfinite(got)
    assert got == pytest.approx(expected, abs=TOLERANCE_KM)
    [back] = vectorised_km([(b, a)])
    assert back == pytest.approx(got, abs=TOLERANCE_KM)


def test_extreme_pairs_in_one_call() -> None:
    pairs = list(EXTREMES.values())
    got = vectorised_km(pairs)
    for (a, b), km in zip(pairs, got, strict=True):
        assert km == pytest.approx(reference_km(a, b), abs=TOLERANCE_KM), (a, b)


def test_identical_points_are_zero() -> None:
    [got] = vectorised_km([((51.8367, 8.0311), (51.8367, 8.0311))])
    assert got == 0.0


def test_empty_input() -> None:
    empty = np.array([], dtype=np.float64)
    got = geodesic_km(empty, empty, empty, empty)
    assert got.shape == (0,)


def test_chunks_give_the_same_distances(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunked loop covers every pair exactly once, whatever the chunk size."""
    rng = np.random.default_rng(3)
    a, b = germany(rng, 50), germany(rng, 50)
    pairs = list(zip(a, b, strict=True))
    whole = vectorised_km(pairs)
    for chunk in (1, 7, 49, 50, 51):
        monkeypatch.setattr(travel, "_CHUNK", chunk)
        np.testing.assert_array_equal(vectorised_km(pairs), whole)


# ----------------------------------------------------------------- geodesic_km_matrix


def test_matrix_matches_pairwise_geopy() -> None:
    rng = np.random.default_rng(49)
    points = [*germany(rng, 27), (51.8367, 8.0311), (51.8367, 8.0311), (89.99, 179.0)]
    lats = np.array([p[0] for p in points])
    lons = np.array([p[1] for p in points])
    matrix = geodesic_km_matrix(lats, lons)
    count = len(points)
    assert matrix.shape == (count, count)
    np.testing.assert_array_equal(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(matrix), np.zeros(count))
    for i in range(count):
        for j in range(count):
            if i != j:
                expected = reference_km(points[i], points[j])
                assert matrix[i, j] == pytest.approx(expected, abs=TOLERANCE_KM), (i, j)
    # the two entries for the same office are the same place
    assert matrix[27, 28] == 0.0


@pytest.mark.parametrize("count", [0, 1])
def test_matrix_of_fewer_than_two_points(count: int) -> None:
    lats = np.full(count, 51.0)
    lons = np.full(count, 8.0)
    matrix = geodesic_km_matrix(lats, lons)
    assert matrix.shape == (count, count)
    assert not matrix.any()


def test_matrix_of_two_points() -> None:
    a, b = (51.8367, 8.0311), (51.9253, 7.8476)
    matrix = geodesic_km_matrix(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    expected = reference_km(a, b)
    assert matrix[0, 1] == pytest.approx(expected, abs=TOLERANCE_KM)
    assert matrix[1, 0] == matrix[0, 1]
    assert matrix[0, 0] == matrix[1, 1] == 0.0


# ------------------------------------------------------------------- leg minutes, km

SPEEDS = [4.5, 16.0, 17.0, 40.0, 45.0, 13.7, 23.3]


@pytest.mark.parametrize("speed", SPEEDS)
def test_leg_minutes_is_ceil_of_km_over_speed(speed: float) -> None:
    params = TravelParams(speed_kmh=speed, detour_factor=1.2, max_leg_km=None)
    rng = np.random.default_rng(int(speed * 10))
    for km in rng.uniform(0.001, 120.0, 2000):
        exact = km / speed * 60
        if abs(exact - round(exact)) < 1e-6:
            continue  # on a whole minute: see the exact-leg test
        assert params.leg_minutes(float(km)) == math.ceil(exact), km


@pytest.mark.parametrize("speed", SPEEDS)
def test_leg_minutes_of_zero_km_is_zero(speed: float) -> None:
    params = TravelParams(speed_kmh=speed, detour_factor=1.3, max_leg_km=None)
    assert params.leg_minutes(0.0) == 0
    assert isinstance(params.leg_minutes(0.0), int)


@pytest.mark.parametrize("speed", SPEEDS)
def test_leg_of_exactly_ten_minutes_is_ten(speed: float) -> None:
    params = TravelParams(speed_kmh=speed, detour_factor=1.2, max_leg_km=None)
    assert params.leg_minutes(speed / 6) == 10
    # a hair longer is the next minute, a hair shorter still ten
    assert params.leg_minutes(speed / 6 + 1e-6) == 11
    assert params.leg_minutes(speed / 6 - 1e-6) == 10


@pytest.mark.parametrize("speed", SPEEDS)
@pytest.mark.parametrize("minutes", [1, 2, 3, 7, 10, 15, 30, 45, 60, 90, 120])
def test_whole_minute_legs_do_not_round_up(speed: float, minutes: int) -> None:
    """km computed as speed * minutes / 60 in floating point lands on that minute."""
    params = TravelParams(speed_kmh=speed, detour_factor=1.2, max_leg_km=None)
    assert params.leg_minutes(speed * minutes / 60) == minutes
    assert params.leg_minutes(minutes / 60 * speed) == minutes


def test_leg_minutes_of_a_short_leg_is_at_least_one() -> None:
    params = TravelParams(speed_kmh=17.0, detour_factor=1.2, max_leg_km=10.0)
    assert params.leg_minutes(0.001) == 1
    assert params.leg_minutes(0.2) == 1


def test_leg_km_applies_the_detour_factor() -> None:
    params = TravelParams(speed_kmh=17.0, detour_factor=1.2, max_leg_km=10.0)
    assert params.leg_km(0.0) == 0.0
    assert params.leg_km(10.0) == pytest.approx(12.0)
    a, b = (51.8367, 8.0311), (51.8441, 8.0012)
    [straight] = vectorised_km([(a, b)])
    assert params.leg_km(float(straight)) == pytest.approx(reference_km(a, b) * 1.2, abs=2e-6)


def test_reaches_is_inclusive_of_max_leg_km() -> None:
    params = TravelParams(speed_kmh=17.0, detour_factor=1.2, max_leg_km=10.0)
    assert params.reaches(10.0)
    assert not params.reaches(10.001)
    assert TravelParams(speed_kmh=40.0, detour_factor=1.3, max_leg_km=None).reaches(1e6)
