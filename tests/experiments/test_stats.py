"""The results' statistics, checked against scipy for known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as reference

from apps.experiments import stats


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((200, 2000), (250, 2000)), ((31, 1000), (29, 1100)), ((5000, 50_000), (5150, 50_000))],
)
def test_two_proportion_z_test_matches_scipy(control, treatment):
    result = stats.two_proportion_test(*control, *treatment)
    table = [[control[0], control[1] - control[0]], [treatment[0], treatment[1] - treatment[0]]]
    # The pooled z-test is the uncorrected chi-square test of the 2x2 table.
    expected_p = reference.chi2_contingency(table, correction=False).pvalue
    assert result.p_value == pytest.approx(expected_p, rel=1e-9)
    assert result.statistic**2 == pytest.approx(
        reference.chi2_contingency(table, correction=False).statistic, rel=1e-9
    )
    # Relative lift: the Katz log interval of the risk ratio.
    ratio = reference.contingency.relative_risk(treatment[0], treatment[1], *control)
    interval = ratio.confidence_interval(confidence_level=0.95)
    assert result.relative_lift == pytest.approx(ratio.relative_risk - 1, rel=1e-12)
    assert result.relative_ci == pytest.approx((interval.low - 1, interval.high - 1), rel=1e-9)
    # Absolute lift: the unpooled Wald interval.
    p_c, p_t = control[0] / control[1], treatment[0] / treatment[1]
    se = math.sqrt(p_c * (1 - p_c) / control[1] + p_t * (1 - p_t) / treatment[1])
    z = reference.norm.ppf(0.975)
    assert result.absolute_ci == pytest.approx((p_t - p_c - z * se, p_t - p_c + z * se), rel=1e-9)


def test_a_known_difference_is_significant_and_no_difference_is_not():
    assert stats.two_proportion_test(200, 2000, 250, 2000).p_value == pytest.approx(
        0.012351, abs=1e-6
    )
    assert stats.two_proportion_test(200, 2000, 200, 2000).p_value == pytest.approx(1.0)


def test_welch_t_test_matches_scipy_on_skewed_samples():
    rng = np.random.default_rng(20261126)
    control, treatment = rng.exponential(2.0, 500), rng.exponential(2.3, 700)
    result = stats.welch_test(
        control.mean(),
        control.var(ddof=1),
        len(control),
        treatment.mean(),
        treatment.var(ddof=1),
        len(treatment),
    )
    expected = reference.ttest_ind(treatment, control, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    interval = expected.confidence_interval(confidence_level=0.95)
    assert result.absolute_ci == pytest.approx((interval.low, interval.high), rel=1e-9)


@pytest.mark.parametrize(("t", "df"), [(2.1, 7.3), (0.3, 1000), (5.0, 3), (-1.2, 25.5), (40, 2)])
def test_student_t_tails_and_quantiles_match_scipy(t, df):
    assert stats.t_two_sided_p(t, df) == pytest.approx(2 * reference.t.sf(abs(t), df), rel=1e-9)
    assert stats.t_quantile(0.975, df) == pytest.approx(reference.t.ppf(0.975, df), rel=1e-9)


@pytest.mark.parametrize(("x", "df"), [(3.2, 1), (15, 3), (0.5, 4), (40, 20), (10.83, 1), (200, 2)])
def test_chi_square_tail_matches_scipy(x, df):
    assert stats.chi2_sf(x, df) == pytest.approx(reference.chi2.sf(x, df), rel=1e-9)


def test_a_sample_ratio_mismatch_alarms():
    # 50/50 planned, 10,000 vs 10,400 seen: p ~ 0.0047 is unusual, but not an alarm at 0.001;
    # 10,000 vs 10,600 is.
    check = stats.sample_ratio_mismatch([10_000, 10_600], [50, 50])
    expected = reference.chisquare([10_000, 10_600], [10_300, 10_300])
    assert check.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert check.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert check.alarm is True


def test_a_split_within_chance_does_not_alarm():
    check = stats.sample_ratio_mismatch([10_000, 10_400], [50, 50])
    assert check.p_value == pytest.approx(
        reference.chisquare([10_000, 10_400], [10_200, 10_200]).pvalue, rel=1e-9
    )
    assert 0.001 < check.p_value < 0.01
    assert check.alarm is False


def test_sample_ratio_with_three_uneven_weights_matches_scipy():
    observed, weights = [5_020, 2_960, 2_020], [50, 30, 20]
    check = stats.sample_ratio_mismatch(observed, weights)
    expected = reference.chisquare(observed, [5_000, 3_000, 2_000])
    assert check.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert check.alarm is False


@pytest.mark.parametrize(("baseline", "effect"), [(0.10, 0.10), (0.03, 0.20), (0.5, 0.02)])
def test_the_sample_size_gives_80_percent_power(baseline, effect):
    n = stats.sample_size_for_rate(baseline, effect)
    target = baseline * (1 + effect)
    # Power of the pooled two-sided z-test at n per group, computed with scipy.
    pooled = (baseline + target) / 2
    se_null = math.sqrt(2 * pooled * (1 - pooled) / n)
    se_alt = math.sqrt((baseline * (1 - baseline) + target * (1 - target)) / n)
    z = reference.norm.ppf(0.975)
    power = reference.norm.sf((z * se_null - (target - baseline)) / se_alt)
    assert power == pytest.approx(0.80, abs=0.002)
    assert stats.sample_size_for_rate(baseline, effect) == n


def test_holm_adjustment():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]


def test_streaming_moments_match_numpy_with_zeros_merged_in_bulk():
    values = [3.0, 1.0, 0.0, 0.0, 7.0, 0.0, 2.5]
    moments = stats.Moments()
    for value in values:
        if value:
            moments.add(value)
    moments.add_zeros(values.count(0.0))
    assert moments.n == len(values)
    assert moments.mean == pytest.approx(np.mean(values), rel=1e-12)
    assert moments.variance == pytest.approx(np.var(values, ddof=1), rel=1e-12)
    assert moments.positives == 4
