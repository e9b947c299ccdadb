"""A run's clock (rethink.train.clock) on a fake time: segments, fits, speeds."""

from __future__ import annotations

import pytest

from rethink.train.clock import Clock


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def test_training_time_counts_only_fits_and_totals_only_closed_ones(fake_time: FakeTime) -> None:
    clock = Clock(wall_seconds=50.0, train_seconds=40.0, trained_steps=400, now=fake_time)
    fake_time.now += 5  # building the model
    clock.start_fit()
    fake_time.now += 2
    clock.count(20)
    assert clock.segment_seconds() == 2 and clock.segment_steps() == 20
    assert clock.segment_images_per_s(10) == 100.0
    fake_time.now += 2
    clock.count(20)
    clock.end_fit()
    fake_time.now += 3  # evaluating: not training time
    assert clock.wall_seconds() == 50 + 12
    assert (clock.train_seconds, clock.trained_steps) == (44.0, 440)
    clock.start_fit()  # a fit that never ends (the run is stopped inside it)
    fake_time.now += 1
    clock.count(30)
    assert clock.segment_steps() == 70 and clock.segment_seconds() == 5
    assert (clock.train_seconds, clock.trained_steps) == (44.0, 440)
    assert clock.images_per_s(10) == 100.0  # 4400 images in 44 s


def test_row_speeds_cover_the_time_since_the_previous_row(fake_time: FakeTime) -> None:
    clock = Clock(now=fake_time)
    assert clock.images_per_s(32) is None
    clock.start_fit()
    fake_time.now += 4
    clock.count(10)
    assert clock.images_per_s_since_mark(32) == 80.0
    assert clock.images_per_s_since_mark(32) is None  # nothing since
    fake_time.now += 1
    clock.count(10)
    clock.end_fit()
    fake_time.now += 10  # between fits: not counted
    assert clock.images_per_s_since_mark(32) == 320.0
