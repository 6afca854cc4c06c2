"""The statistics of experiment results, in pure Python (no scipy at run time).

* Rates (converted or not): two-proportion z-test with the pooled standard error; the
  absolute lift's confidence interval with the unpooled (Wald) one; the relative lift's on
  the log of the risk ratio (Katz), which stays inside (-100 %, +inf) as a ratio must.
* Means: Welch's t-test (unequal variances) with Welch-Satterthwaite degrees of freedom; the
  relative lift's interval by the delta method.
* Sample-ratio mismatch: chi-square goodness of fit of exposures against the weights. A
  mismatch means assignment or logging is broken, so every other number is suspect; the
  alarm uses a strict alpha (0.001) because it is checked again and again.
* Sample size: per variant, for the minimum detectable effect at 5 % two-sided and 80 %
  power; below it a result is marked as not yet conclusive.

``tests/experiments/test_stats.py`` checks each function against scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
POWER = 0.8
SRM_ALPHA = 0.001
_NORMAL = NormalDist()


def z_quantile(probability: float) -> float:
    return _NORMAL.inv_cdf(probability)


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


# --- special functions --------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's method for the incomplete beta continued fraction (Numerical Recipes 6.4)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(df):
        return normal_two_sided_p(t)
    return regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t (for 0.5 < probability < 1)."""
    if math.isinf(df) or df > 1e7:
        return z_quantile(probability)
    target = 2.0 * (1.0 - probability)  # two-sided tail
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_two_sided_p(middle, df) > target:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def regularized_gamma_upper(s: float, x: float) -> float:
    """Q(s, x) = Γ(s, x) / Γ(s), by series below s + 1 and continued fraction above."""
    if x <= 0.0:
        return 1.0
    log_front = -x + s * math.log(x) - math.lgamma(s)
    if x < s + 1.0:
        term = total = 1.0 / s
        n = s
        for _ in range(10_000):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1.0 - s
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(log_front) * h


def chi2_sf(statistic: float, df: int) -> float:
    return regularized_gamma_upper(df / 2.0, statistic / 2.0)


# --- tests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control: lifts with their intervals, and the p-value."""

    control: float
    treatment: float
    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float | None
    relative_ci: tuple[float, float] | None
    statistic: float
    p_value: float

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_value < alpha


def two_proportion_test(
    control_conversions: int,
    control_n: int,
    treatment_conversions: int,
    treatment_n: int,
    *,
    alpha: float = ALPHA,
) -> Comparison:
    """Treatment rate against control rate (two-sided)."""
    if control_n <= 0 or treatment_n <= 0:
        raise ValueError("both groups need at least one unit")
    p_c = control_conversions / control_n
    p_t = treatment_conversions / treatment_n
    pooled = (control_conversions + treatment_conversions) / (control_n + treatment_n)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / treatment_n))
    diff = p_t - p_c
    z = diff / pooled_se if pooled_se > 0 else 0.0
    p_value = normal_two_sided_p(z) if pooled_se > 0 else 1.0
    quantile = z_quantile(1 - alpha / 2)
    se = math.sqrt(p_c * (1 - p_c) / control_n + p_t * (1 - p_t) / treatment_n)
    relative: float | None = None
    relative_ci: tuple[float, float] | None = None
    if control_conversions > 0 and treatment_conversions > 0:
        relative = p_t / p_c - 1
        log_se = math.sqrt(
            1 / treatment_conversions - 1 / treatment_n + 1 / control_conversions - 1 / control_n
        )
        ratio = math.log(p_t / p_c)
        relative_ci = (
            math.exp(ratio - quantile * log_se) - 1,
            math.exp(ratio + quantile * log_se) - 1,
        )
    elif control_conversions > 0:
        relative = -1.0
    return Comparison(
        control=p_c,
        treatment=p_t,
        absolute_lift=diff,
        absolute_ci=(diff - quantile * se, diff + quantile * se),
        relative_lift=relative,
        relative_ci=relative_ci,
        statistic=z,
        p_value=p_value,
    )


def welch_test(
    control_mean: float,
    control_variance: float,
    control_n: int,
    treatment_mean: float,
    treatment_variance: float,
    treatment_n: int,
    *,
    alpha: float = ALPHA,
) -> Comparison:
    """Treatment mean against control mean, Welch's unequal-variance t-test (two-sided).

    Variances are sample variances (n - 1 in the denominator).
    """
    if control_n < 2 or treatment_n < 2:
        raise ValueError("both groups need at least two units")
    v_c = control_variance / control_n
    v_t = treatment_variance / treatment_n
    diff = treatment_mean - control_mean
    se = math.sqrt(v_c + v_t)
    if se == 0:
        t, df, p_value = 0.0, math.inf, 1.0 if diff == 0 else 0.0
    else:
        t = diff / se
        df = (v_c + v_t) ** 2 / (v_c**2 / (control_n - 1) + v_t**2 / (treatment_n - 1))
        p_value = t_two_sided_p(t, df)
    quantile = t_quantile(1 - alpha / 2, df) if se > 0 else 0.0
    relative: float | None = None
    relative_ci: tuple[float, float] | None = None
    if control_mean != 0:
        relative = treatment_mean / control_mean - 1
        # Delta method for the ratio of two independent means.
        ratio_se = math.sqrt(v_t / control_mean**2 + treatment_mean**2 * v_c / control_mean**4)
        z = z_quantile(1 - alpha / 2)
        relative_ci = (relative - z * ratio_se, relative + z * ratio_se)
    return Comparison(
        control=control_mean,
        treatment=treatment_mean,
        absolute_lift=diff,
        absolute_ci=(diff - quantile * se, diff + quantile * se),
        relative_lift=relative,
        relative_ci=relative_ci,
        statistic=t,
        p_value=p_value,
    )


@dataclass(frozen=True)
class SampleRatioCheck:
    statistic: float
    p_value: float
    expected: list[float]
    alarm: bool


def sample_ratio_mismatch(
    observed: list[int], weights: list[float], *, alpha: float = SRM_ALPHA
) -> SampleRatioCheck:
    """Chi-square goodness of fit of the observed exposures against the planned weights."""
    total = sum(observed)
    weight_sum = sum(weights)
    expected = [total * weight / weight_sum for weight in weights]
    if total == 0 or len(observed) < 2:
        return SampleRatioCheck(0.0, 1.0, expected, False)
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True) if e > 0)
    p_value = chi2_sf(statistic, len(observed) - 1)
    return SampleRatioCheck(statistic, p_value, expected, p_value < alpha)


def sample_size_for_rate(
    baseline: float, relative_effect: float, *, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Units per variant to detect ``baseline * (1 + relative_effect)`` with ``power``."""
    target = baseline * (1 + relative_effect)
    if not 0 < baseline < 1 or not 0 < target < 1 or relative_effect == 0:
        return None
    z_alpha, z_power = z_quantile(1 - alpha / 2), z_quantile(power)
    average = (baseline + target) / 2
    numerator = z_alpha * math.sqrt(2 * average * (1 - average)) + z_power * math.sqrt(
        baseline * (1 - baseline) + target * (1 - target)
    )
    return math.ceil(numerator**2 / (target - baseline) ** 2)


def sample_size_for_mean(
    baseline_mean: float,
    standard_deviation: float,
    relative_effect: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
) -> int | None:
    """Units per variant to detect a relative change of the mean (equal variances assumed)."""
    delta = abs(baseline_mean * relative_effect)
    if delta == 0 or standard_deviation <= 0:
        return None
    z_alpha, z_power = z_quantile(1 - alpha / 2), z_quantile(power)
    return math.ceil(2 * ((z_alpha + z_power) * standard_deviation / delta) ** 2)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (several treatments against one control)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@dataclass
class Moments:
    """Streaming count, mean and variance of per-unit values (Welford)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    positives: int = 0

    def add(self, value: float, count: int = 1) -> None:
        for _ in range(count):
            self.n += 1
            delta = value - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (value - self.mean)
            if value > 0:
                self.positives += 1

    def add_zeros(self, count: int) -> None:
        """``count`` units whose value is 0, merged in one step (Chan et al.)."""
        if count <= 0:
            return
        n = self.n + count
        delta = -self.mean
        self.m2 += delta * delta * self.n * count / n
        self.mean += delta * count / n
        self.n = n

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0
