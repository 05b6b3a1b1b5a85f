"""The per-shop hand-off threshold (knowledge/calibration.py)."""

from knowledge.calibration import Calibration, calibrate, choose_threshold, error_rates


def test_the_threshold_with_the_fewest_mistakes_on_both_sides_is_chosen():
    answerable, unanswerable = [0.9, 0.8, 0.45, 0.42, 0.7], [0.1, 0.2, 0.3, 0.35]
    threshold = choose_threshold(answerable, unanswerable)
    assert 0.35 < threshold <= 0.42
    assert error_rates(answerable, unanswerable, threshold) == {"answerable_refused": 0.0,
                                                                "unanswerable_answered": 0.0}
    assert choose_threshold([0.9], [0.1]) == 0.5  # anything separates them: the default stays


def test_calibrating_a_shops_index_makes_no_more_mistakes_than_the_default(retriever, tmp_path):
    calibration = calibrate(retriever, 4)
    assert calibration.answerable >= 100 and calibration.unanswerable >= 20
    assert 0.15 <= calibration.threshold <= 0.85
    assert sum(calibration.after.values()) <= sum(calibration.before.values())
    calibration.save(tmp_path / "calibration.json")
    assert Calibration.load(tmp_path / "calibration.json") == calibration


def test_settings_take_the_calibrated_threshold_unless_a_variable_sets_one(tmp_path, monkeypatch):
    from shopcore.settings import load_settings

    settings = load_settings(home=tmp_path)
    assert settings.coverage_threshold == 0.5
    settings.calibration_file.parent.mkdir(parents=True)
    settings.calibration_file.write_text('{"threshold": 0.41}', encoding="utf-8")
    assert load_settings(home=tmp_path).coverage_threshold == 0.41
    monkeypatch.setenv("CHATBOT_COVERAGE_THRESHOLD", "0.6")
    assert load_settings(home=tmp_path).coverage_threshold == 0.6


def test_the_default_stays_unless_another_threshold_is_better_by_more_than_chance():
    # One unanswerable question of 40 answered either way; 3 more of 100 answerable ones kept at 0.45.
    answerable = [0.9] * 90 + [0.47] * 3 + [0.1] * 7
    unanswerable = [0.1] * 39 + [0.6]
    assert choose_threshold(answerable, unanswerable) == 0.5
    # Twenty more kept: that is no chance.
    answerable = [0.9] * 70 + [0.47] * 23 + [0.1] * 7
    assert choose_threshold(answerable, unanswerable) < 0.5
