//! Closed-form queueing-theory results that the integration tests compare the simulator against.
//!
//! Every function is a pure `f64` computation with no dependencies. Rates are per unit of
//! time (`lambda` = arrival rate λ, `mu` = service rate μ of one server), and `a = λ/μ` is
//! the offered load in Erlangs. The functions are written to stay numerically stable for
//! `c` up to 256 servers and offered loads up to 250 Erlangs (Erlang B uses the forward
//! recurrence, Erlang C is derived from Erlang B, and the M/M/c/K distribution is built from
//! successive ratios with rescaling), so no factorial or power is ever evaluated directly.
//!
//! Sources:
//! - L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley, 1975.
//! - D. Gross, J. F. Shortle, J. M. Thompson, C. M. Harris, *Fundamentals of Queueing
//!   Theory*, 4th ed., Wiley, 2008.
//! - M. Harchol-Balter, *Performance Modeling and Design of Computer Systems*, Cambridge
//!   University Press, 2013.
//!
//! All functions panic (with a message) when a precondition is violated, since this is test
//! code and a wrong reference value must never pass silently.

#![allow(dead_code)]

/// Checks that `x` is a finite number `>= 0`.
fn assert_non_negative(name: &str, x: f64) {
    assert!(x.is_finite() && x >= 0.0, "{name} must be finite and >= 0, got {x}");
}

/// Checks that `x` is a finite number `> 0`.
fn assert_positive(name: &str, x: f64) {
    assert!(x.is_finite() && x > 0.0, "{name} must be finite and > 0, got {x}");
}

/// Erlang B blocking probability, c servers, offered load a = λ/μ (Erlangs).
///
/// This is the probability that an arrival finds all `c` servers busy in the M/M/c/c loss
/// system (and, by insensitivity, in M/G/c/c):
///
/// ```text
/// B(c, a) = (a^c / c!) / Σ_{k=0..c} a^k / k!
/// ```
///
/// It is computed with the numerically stable forward recurrence
/// `B(0) = 1`, `B(k) = a·B(k−1) / (k + a·B(k−1))`, which never evaluates a factorial or a
/// power. `c = 0` gives `B = 1` (every arrival is lost).
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c/c, Erlang's loss
/// formula); Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (M/M/m/m, "Erlang's B formula");
/// Harchol-Balter, *Performance Modeling and Design of Computer Systems*, ch. 14 (M/M/k/k).
///
/// # Panics
///
/// If `a` is negative or not finite.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    assert_non_negative("offered load a", a);
    let mut b = 1.0_f64;
    for k in 1..=c {
        let ab = a * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// Erlang C: probability an arrival waits in M/M/c (requires a < c).
///
/// ```text
/// C(c, a) = [a^c / c! · c/(c−a)] / [Σ_{k=0..c−1} a^k / k! + a^c / c! · c/(c−a)]
///         = c·B(c, a) / (c − a·(1 − B(c, a)))
/// ```
///
/// The second form, in terms of the Erlang B value from [`erlang_b`], is the one evaluated,
/// so no factorial or power is computed. `a = 0` gives `C = 0`.
///
/// Source: Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (M/M/m, "Erlang's C formula");
/// Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c, probability of delay, and
/// its relation to Erlang's loss formula); Harchol-Balter, ch. 14 (M/M/k, `P_Q`).
///
/// # Panics
///
/// If `c = 0`, if `a` is negative or not finite, or if `a >= c` (unstable system).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(c > 0, "Erlang C needs at least one server (c = 0)");
    assert_non_negative("offered load a", a);
    let cf = f64::from(c);
    assert!(a < cf, "Erlang C requires a < c for stability, got a = {a}, c = {c}");
    let b = erlang_b(c, a);
    cf * b / (cf - a * (1.0 - b))
}

/// Checks the M/M/c parameters and returns the offered load `a = λ/μ`.
fn mmc_load(c: u32, lambda: f64, mu: f64) -> f64 {
    assert!(c > 0, "M/M/c needs at least one server (c = 0)");
    assert_non_negative("arrival rate lambda", lambda);
    assert_positive("service rate mu", mu);
    assert!(
        lambda < f64::from(c) * mu,
        "M/M/c requires lambda < c·mu for stability, got lambda = {lambda}, c = {c}, mu = {mu}"
    );
    lambda / mu
}

/// M/M/c mean waiting time in queue W_q = C(c,a) / (c·μ − λ).
///
/// `C(c, a)` is the Erlang C probability of waiting ([`erlang_c`]) with `a = λ/μ`.
/// For `c = 1` this reduces to the M/M/1 result `W_q = ρ/(μ − λ)`.
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c, W_q);
/// Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (M/M/m); Harchol-Balter, ch. 14 (M/M/k).
///
/// # Panics
///
/// If `c = 0`, `lambda < 0`, `mu <= 0`, a non-finite argument, or `lambda >= c·mu`
/// (unstable system).
pub fn mmc_mean_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = mmc_load(c, lambda, mu);
    erlang_c(c, a) / (f64::from(c) * mu - lambda)
}

/// M/M/c mean response time W = W_q + 1/μ.
///
/// `W_q` is [`mmc_mean_wait`]; `1/μ` is the mean service time. For `c = 1` this is
/// `W = 1/(μ − λ)`.
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c, W); Kleinrock,
/// *Queueing Systems Vol. 1*, ch. 3 (M/M/m); Harchol-Balter, ch. 14 (M/M/k).
///
/// # Panics
///
/// Same preconditions as [`mmc_mean_wait`].
pub fn mmc_mean_response(c: u32, lambda: f64, mu: f64) -> f64 {
    mmc_mean_wait(c, lambda, mu) + 1.0 / mu
}

/// M/M/c: P(W_q > t) = C(c,a)·exp(−(cμ−λ)t).
///
/// Complementary distribution of the FCFS waiting time in queue, for `t >= 0`; at `t = 0`
/// it is the probability of waiting at all, `C(c, a)`. For `t < 0` the probability is 1
/// (waiting times are non-negative), which is what this returns.
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c FCFS waiting-time
/// distribution W_q(t)); Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (M/M/m).
///
/// # Panics
///
/// Same preconditions as [`mmc_mean_wait`], or if `t` is NaN.
pub fn mmc_wait_tail(c: u32, lambda: f64, mu: f64, t: f64) -> f64 {
    assert!(!t.is_nan(), "t must not be NaN");
    let a = mmc_load(c, lambda, mu);
    if t < 0.0 {
        return 1.0;
    }
    erlang_c(c, a) * (-(f64::from(c) * mu - lambda) * t).exp()
}

/// Stationary quantities of the M/M/c/K birth–death chain: `(p_K, L)`.
///
/// With `a = λ/μ`, the unnormalised probabilities satisfy `q_0 = 1` and
/// `q_n = q_{n−1} · a / min(n, c)`. They are accumulated term by term; whenever the current
/// term grows past a threshold, the term and the running sums are rescaled together, so
/// neither overflow nor a factorial/power is involved (K up to 10,000 and beyond is fine).
fn mmck_stationary(c: u32, k: u32, lambda: f64, mu: f64) -> (f64, f64) {
    /// Rescale once a term exceeds this, far below `f64::MAX` so that one more ratio step
    /// (at most `a`) cannot overflow.
    const RESCALE_ABOVE: f64 = 1e150;
    assert!(c > 0, "M/M/c/K needs at least one server (c = 0)");
    assert!(k >= c, "M/M/c/K needs K >= c, got K = {k}, c = {c}");
    assert_non_negative("arrival rate lambda", lambda);
    assert_positive("service rate mu", mu);
    let a = lambda / mu;
    assert!(a.is_finite(), "offered load lambda/mu must be finite");
    // term = q_n (scaled), s0 = Σ q_m, s1 = Σ m·q_m for m <= n, all with the same scale.
    let mut term = 1.0_f64;
    let mut s0 = 1.0_f64;
    let mut s1 = 0.0_f64;
    for n in 1..=k {
        term *= a / f64::from(n.min(c));
        s0 += term;
        s1 += f64::from(n) * term;
        if term > RESCALE_ABOVE {
            s0 /= term;
            s1 /= term;
            term = 1.0;
        }
    }
    (term / s0, s1 / s0)
}

/// M/M/c/K (K = total capacity, K >= c): blocking probability p_K (stationary probability
/// that the system is full), via the birth–death stationary distribution computed with
/// ratios normalised stably (no overflow for K up to 10,000).
///
/// With `a = λ/μ`, the birth–death balance equations `λ·p_{n−1} = min(n, c)·μ·p_n` give
///
/// ```text
/// p_n = p_0 · a^n / n!                 for 0 <= n <= c
/// p_n = p_0 · a^c / c! · (a/c)^(n−c)   for c <= n <= K
/// p_0 = 1 / Σ_{n=0..K} (p_n / p_0)
/// ```
///
/// and the value returned is `p_K`. It is evaluated from the ratios `p_n/p_{n−1} = a/min(n, c)`
/// with running rescaling (see the module notes), never from the powers and factorials above.
///
/// By PASTA, `p_K` is the probability that an arrival is rejected. For `c = 1` it is
/// `(1−ρ)ρ^K / (1−ρ^(K+1))` (and `1/(K+1)` at `ρ = 1`); for `K = c` it is Erlang B.
/// No stability condition is needed (the state space is finite), so `λ >= c·μ` is allowed.
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (queues with truncation,
/// M/M/c/K); Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (birth–death equilibrium solution,
/// M/M/1/K and M/M/m/m as special cases).
///
/// # Panics
///
/// If `c = 0`, `K < c`, `lambda < 0`, `mu <= 0`, or a non-finite argument.
pub fn mmck_blocking(c: u32, k: u32, lambda: f64, mu: f64) -> f64 {
    mmck_stationary(c, k, lambda, mu).0
}

/// M/M/c/K mean number in system and mean response time of admitted customers (Little's
/// law with the effective arrival rate λ(1−p_K)).
///
/// This one is the mean number in system, `L = Σ_{n=0..K} n·p_n`, with `p_n` the stationary
/// distribution described in [`mmck_blocking`].
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (queues with truncation,
/// M/M/c/K, L); Kleinrock, *Queueing Systems Vol. 1*, ch. 3 (birth–death equilibrium).
///
/// # Panics
///
/// Same preconditions as [`mmck_blocking`].
pub fn mmck_mean_in_system(c: u32, k: u32, lambda: f64, mu: f64) -> f64 {
    mmck_stationary(c, k, lambda, mu).1
}

/// M/M/c/K mean response time (time in system) of admitted customers, by Little's law with
/// the effective arrival rate:
///
/// ```text
/// W = L / (λ·(1 − p_K))
/// ```
///
/// where `L` is [`mmck_mean_in_system`] and `p_K` is [`mmck_blocking`]. Rejected arrivals
/// are not counted. At `λ = 0` the ratio is 0/0; its limit `1/μ` (an arrival to an empty
/// system only waits for its own service) is returned.
///
/// Source: Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2 (M/M/c/K, W = L/λ_eff);
/// Kleinrock, *Queueing Systems Vol. 1*, ch. 2 (Little's result); Harchol-Balter, ch. 6
/// (Little's law).
///
/// # Panics
///
/// Same preconditions as [`mmck_blocking`].
pub fn mmck_mean_response(c: u32, k: u32, lambda: f64, mu: f64) -> f64 {
    let (p_k, l) = mmck_stationary(c, k, lambda, mu);
    if lambda == 0.0 {
        return 1.0 / mu;
    }
    l / (lambda * (1.0 - p_k))
}

/// M/D/1 mean wait in queue by Pollaczek–Khinchine: W_q = ρ·D / (2(1−ρ)) with D the
/// deterministic service time and ρ = λD.
///
/// This is the M/G/1 formula ([`mg1_mean_wait`]) with `E[S²] = D²`, i.e. half the M/M/1
/// wait at the same load.
///
/// Source: Kleinrock, *Queueing Systems Vol. 1*, ch. 5 (P-K mean-value formula, M/D/1);
/// Gross & Harris, *Fundamentals of Queueing Theory*, ch. 5 (M/G/1, P-K formula);
/// Harchol-Balter, ch. 23 (M/G/1).
///
/// # Panics
///
/// If `lambda < 0`, `d < 0`, a non-finite argument, or `ρ = λD >= 1` (unstable system).
pub fn md1_mean_wait(lambda: f64, d: f64) -> f64 {
    assert_non_negative("arrival rate lambda", lambda);
    assert_non_negative("service time d", d);
    let rho = lambda * d;
    assert!(rho < 1.0, "M/D/1 requires rho = lambda·d < 1, got {rho}");
    rho * d / (2.0 * (1.0 - rho))
}

/// M/G/1 mean wait by Pollaczek–Khinchine from the service time's mean and second moment:
/// `W_q = λ·E[S²] / (2(1−ρ))`.
///
/// Here `ρ = λ·E[S]`. Equivalently `W_q = ρ/(1−ρ) · E[S]·(1 + C_s²)/2` with `C_s²` the
/// squared coefficient of variation of the service time. Pass the *second moment*
/// `E[S²] = Var[S] + E[S]²`, not the variance.
///
/// Source: Kleinrock, *Queueing Systems Vol. 1*, ch. 5 (Pollaczek–Khinchin mean-value
/// formula); Gross & Harris, *Fundamentals of Queueing Theory*, ch. 5 (M/G/1, P-K formula);
/// Harchol-Balter, ch. 23 (M/G/1).
///
/// # Panics
///
/// If an argument is negative or not finite, if `ρ >= 1` (unstable system), or if
/// `second_moment_s < mean_s²` (beyond rounding), which no distribution can have — usually
/// the sign that a variance was passed instead of a second moment.
pub fn mg1_mean_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    assert_non_negative("arrival rate lambda", lambda);
    assert_non_negative("mean service time", mean_s);
    assert_non_negative("second moment of service time", second_moment_s);
    assert!(
        second_moment_s >= mean_s * mean_s * (1.0 - 1e-12),
        "E[S^2] = {second_moment_s} < E[S]^2 = {}: pass the second moment, not the variance",
        mean_s * mean_s
    );
    let rho = lambda * mean_s;
    assert!(rho < 1.0, "M/G/1 requires rho = lambda·E[S] < 1, got {rho}");
    lambda * second_moment_s / (2.0 * (1.0 - rho))
}

/// Standard error of a sample mean of `n` batch means with sample variance `var` (helper
/// for tolerances): sqrt(var / n).
///
/// `var` is the sample variance of the batch means (with the usual `n − 1` denominator),
/// `n` the number of batches. Batch means are treated as approximately independent, which
/// is the premise of the method of batch means.
///
/// Source: A. M. Law, *Simulation Modeling and Analysis*, McGraw-Hill, ch. 9 (output data
/// analysis, method of batch means): the standard error of the mean of `n` (approximately)
/// i.i.d. observations.
///
/// # Panics
///
/// If `var < 0`, `n <= 0`, or an argument is not finite.
pub fn std_error(var: f64, n: f64) -> f64 {
    assert_non_negative("variance", var);
    assert_positive("number of batches n", n);
    (var / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts `|actual − expected| <= tol·|expected|` (or `<= tol` when `expected = 0`).
    fn assert_rel(actual: f64, expected: f64, tol: f64) {
        let scale = if expected == 0.0 { 1.0 } else { expected.abs() };
        let err = (actual - expected).abs() / scale;
        assert!(err <= tol, "actual {actual:e}, expected {expected:e}, relative error {err:e} > {tol:e}");
    }

    const TIGHT: f64 = 1e-9;

    // Reference values computed independently with Python's `fractions.Fraction` from the
    // factorial forms of the formulas (exact rational arithmetic, printed to 40 digits and
    // written below as the nearest f64). Exact digits:
    //   B(10, 5)       = 0.01838457033664813313718732287569554859723
    //   B(100, 80)     = 0.003992028604553197472565612499041917579373
    //   B(256, 250)    = 0.03501965502920387633824870108464480578234
    //   C(4, 3.2)      = 0.5964324717874044412085911903895158354569
    //   C(16, 14.4)    = 0.5913433938723897042654530777065549853701
    //   C(256, 250)    = 0.6075963462029827319777287157798938473722
    // M/M/c/K from p_n ∝ a^n/n! (n <= c), a^c/c!·(a/c)^(n−c) (n > c), L = Σ n·p_n,
    // W = L / (λ(1 − p_K)):
    //   c=4, K=4,  λ=3,   μ=1: p_K = 27/131 = 0.2061068702290076335877862595419847328244,
    //                          L = 312/131 = 2.381679389312977099236641221374045801527, W = 1
    //   c=3, K=10, λ=2.5, μ=1: p_K = 0.03904008739814542389730394898132141522609,
    //                          L = 4.061424848485883042432403896382318082248,
    //                          W = 1.690569937507316084443004822348517250118
    //   c=2, K=6,  λ=3,   μ=1: p_K = 0.3596447952639368524913665515540207202763,
    //                          L = 4.505180069067587567834237789837197829304,
    //                          W = 2.345146379044684129429892141756548536210
    //   c=8, K=12, λ=6,   μ=1: p_K = 0.03085127448485858591663797440842136501307,
    //                          L = 6.244524916287397680968908389755636004178,
    //                          W = 1.073884869591469265852264763280753016270

    #[test]
    fn erlang_b_small_hand_values() {
        assert_rel(erlang_b(1, 1.0), 0.5, TIGHT);
        assert_rel(erlang_b(2, 1.0), 0.2, TIGHT);
        assert_rel(erlang_b(0, 3.0), 1.0, TIGHT);
        assert_eq!(erlang_b(5, 0.0), 0.0);
    }

    #[test]
    fn erlang_b_published_values() {
        // Classic Erlang B table entry: 10 servers, 5 Erlangs ≈ 0.018385.
        assert_rel(erlang_b(10, 5.0), 0.018_384_570_336_648_133, TIGHT);
        assert_rel(erlang_b(100, 80.0), 0.003_992_028_604_553_197, TIGHT);
    }

    #[test]
    fn erlang_b_large_is_stable() {
        assert_rel(erlang_b(256, 250.0), 0.035_019_655_029_203_88, TIGHT);
        let b = erlang_b(256, 250.0);
        assert!(b.is_finite() && b > 0.0 && b < 1.0);
    }

    #[test]
    fn erlang_c_single_server_equals_load() {
        for &a in &[0.0, 0.1, 0.5, 0.9, 0.99] {
            assert_rel(erlang_c(1, a), a, TIGHT);
        }
    }

    #[test]
    fn erlang_c_reference_values() {
        assert_rel(erlang_c(2, 1.0), 1.0 / 3.0, TIGHT);
        assert_rel(erlang_c(4, 3.2), 0.596_432_471_787_404_4, TIGHT);
        assert_rel(erlang_c(16, 14.4), 0.591_343_393_872_389_7, TIGHT);
        assert_rel(erlang_c(256, 250.0), 0.607_596_346_202_982_8, TIGHT);
    }

    #[test]
    fn erlang_c_exceeds_erlang_b() {
        for &(c, a) in &[(1, 0.5), (4, 3.2), (16, 14.4), (256, 250.0)] {
            assert!(erlang_c(c, a) > erlang_b(c, a));
        }
    }

    #[test]
    #[should_panic(expected = "a < c")]
    fn erlang_c_unstable_panics() {
        erlang_c(2, 2.0);
    }

    #[test]
    #[should_panic(expected = "c = 0")]
    fn erlang_c_zero_servers_panics() {
        erlang_c(0, 0.5);
    }

    #[test]
    fn mm1_wait_and_response() {
        for &(lambda, mu) in &[(0.5, 1.0), (3.0, 4.0), (9.9, 10.0)] {
            let rho = lambda / mu;
            assert_rel(mmc_mean_wait(1, lambda, mu), rho / (mu - lambda), TIGHT);
            assert_rel(mmc_mean_response(1, lambda, mu), 1.0 / (mu - lambda), TIGHT);
        }
    }

    #[test]
    fn mm2_response_closed_form() {
        // M/M/2: W = 1 / (μ(1 − ρ²)) with ρ = λ/(2μ) (Gross & Harris, ch. 2).
        for &(lambda, mu) in &[(1.0, 1.0), (3.0, 2.0), (1.9, 1.0)] {
            let rho = lambda / (2.0 * mu);
            assert_rel(mmc_mean_response(2, lambda, mu), 1.0 / (mu * (1.0 - rho * rho)), TIGHT);
        }
    }

    #[test]
    fn mmc_wait_uses_erlang_c() {
        // c = 4, λ = 3.2, μ = 1: W_q = C(4, 3.2) / 0.8.
        assert_rel(mmc_mean_wait(4, 3.2, 1.0), 0.596_432_471_787_404_4 / 0.8, TIGHT);
        // Same system with time rescaled by 10 (μ = 10, λ = 32): waits shrink by 10.
        assert_rel(mmc_mean_wait(4, 32.0, 10.0), 0.596_432_471_787_404_4 / 8.0, TIGHT);
        assert_eq!(mmc_mean_wait(3, 0.0, 1.0), 0.0);
    }

    #[test]
    fn mmc_wait_tail_values() {
        // t = 0 gives the probability of waiting.
        assert_rel(mmc_wait_tail(4, 3.2, 1.0, 0.0), erlang_c(4, 3.2), TIGHT);
        // M/M/1: P(W_q > t) = ρ·e^{−(μ−λ)t}.
        assert_rel(mmc_wait_tail(1, 0.5, 1.0, 2.0), 0.5 * (-1.0_f64).exp(), TIGHT);
        // M/M/2, λ = μ = 1: (1/3)·e^{−t}.
        assert_rel(mmc_wait_tail(2, 1.0, 1.0, 1.5), (-1.5_f64).exp() / 3.0, TIGHT);
        assert_eq!(mmc_wait_tail(2, 1.0, 1.0, -1.0), 1.0);
    }

    #[test]
    fn mmc_wait_tail_integrates_to_mean_wait() {
        // E[W_q] = ∫_0^∞ P(W_q > t) dt; check by composite Simpson's rule over [0, 40/θ].
        let (c, lambda, mu) = (16, 14.4, 1.0);
        let theta = f64::from(c) * mu - lambda;
        let upper = 40.0 / theta;
        let n = 20_000;
        let h = upper / f64::from(n);
        let mut sum = mmc_wait_tail(c, lambda, mu, 0.0) + mmc_wait_tail(c, lambda, mu, upper);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * mmc_wait_tail(c, lambda, mu, f64::from(i) * h);
        }
        assert_rel(sum * h / 3.0, mmc_mean_wait(c, lambda, mu), TIGHT);
    }

    #[test]
    #[should_panic(expected = "stability")]
    fn mmc_unstable_panics() {
        mmc_mean_wait(3, 3.0, 1.0);
    }

    /// M/M/1/K blocking probability (1−ρ)ρ^K / (1−ρ^(K+1)), for moderate K.
    fn mm1k_blocking_formula(k: u32, rho: f64) -> f64 {
        let k = i32::try_from(k).unwrap();
        (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1))
    }

    #[test]
    fn mm1k_blocking_matches_formula() {
        for &k in &[1, 2, 5, 10, 50] {
            for &(lambda, mu) in &[(0.5, 1.0), (0.9, 1.0), (1.5, 1.0), (3.0, 2.0)] {
                assert_rel(mmck_blocking(1, k, lambda, mu), mm1k_blocking_formula(k, lambda / mu), TIGHT);
            }
        }
    }

    #[test]
    fn mm1k_critical_load_is_uniform() {
        // ρ = 1: all K+1 states equally likely, p_K = 1/(K+1), L = K/2.
        for &k in &[1, 7, 100, 10_000] {
            assert_rel(mmck_blocking(1, k, 2.0, 2.0), 1.0 / f64::from(k + 1), TIGHT);
            assert_rel(mmck_mean_in_system(1, k, 2.0, 2.0), f64::from(k) / 2.0, TIGHT);
        }
    }

    #[test]
    fn mmck_with_k_equal_c_is_erlang_b() {
        for &(c, a) in &[(1, 1.0), (2, 1.0), (4, 3.0), (10, 5.0), (100, 80.0), (256, 250.0)] {
            assert_rel(mmck_blocking(c, c, a, 1.0), erlang_b(c, a), TIGHT);
            // Carried load: L = a(1 − B) for the loss system, and W = 1/μ.
            assert_rel(mmck_mean_in_system(c, c, a, 1.0), a * (1.0 - erlang_b(c, a)), TIGHT);
            assert_rel(mmck_mean_response(c, c, a, 1.0), 1.0, TIGHT);
        }
    }

    #[test]
    fn mmck_reference_values() {
        // (c, K, λ, μ, p_K, L, W), exact rational arithmetic.
        let cases: [(u32, u32, f64, f64, f64, f64, f64); 4] = [
            (4, 4, 3.0, 1.0, 0.206_106_870_229_007_64, 2.381_679_389_312_977, 1.0),
            (3, 10, 2.5, 1.0, 0.039_040_087_398_145_42, 4.061_424_848_485_883, 1.690_569_937_507_316),
            (2, 6, 3.0, 1.0, 0.359_644_795_263_936_83, 4.505_180_069_067_587, 2.345_146_379_044_684_3),
            (8, 12, 6.0, 1.0, 0.030_851_274_484_858_585, 6.244_524_916_287_397, 1.073_884_869_591_469_3),
        ];
        for (c, k, lambda, mu, p_k, l, w) in cases {
            assert_rel(mmck_blocking(c, k, lambda, mu), p_k, TIGHT);
            assert_rel(mmck_mean_in_system(c, k, lambda, mu), l, TIGHT);
            assert_rel(mmck_mean_response(c, k, lambda, mu), w, TIGHT);
        }
    }

    #[test]
    fn mmck_littles_law() {
        for &(c, k, lambda, mu) in
            &[(1, 5, 0.7, 1.0), (3, 10, 2.5, 1.0), (8, 40, 12.0, 1.0), (64, 200, 70.0, 1.1)]
        {
            let p_k = mmck_blocking(c, k, lambda, mu);
            let l = mmck_mean_in_system(c, k, lambda, mu);
            let w = mmck_mean_response(c, k, lambda, mu);
            assert_rel(l, lambda * (1.0 - p_k) * w, TIGHT);
            // Busy servers = λ_eff/μ (Little's law applied to the servers alone).
            assert!(l >= lambda * (1.0 - p_k) / mu * (1.0 - TIGHT));
            assert!(w >= 1.0 / mu);
        }
    }

    #[test]
    fn mmck_large_k_approaches_mmc() {
        // Stable load: a huge buffer behaves like the infinite queue.
        for &(c, lambda, mu) in &[(1, 0.8, 1.0), (4, 3.2, 1.0), (16, 14.4, 1.0)] {
            let k = 10_000;
            assert!(mmck_blocking(c, k, lambda, mu) < 1e-300);
            assert_rel(mmck_mean_response(c, k, lambda, mu), mmc_mean_response(c, lambda, mu), TIGHT);
        }
    }

    #[test]
    fn mmck_overloaded_large_k_is_stable() {
        // ρ = λ/(cμ) > 1 with K = 10,000: p_K → 1 − 1/ρ, computed without overflow.
        // Exact (Fraction) values: c=2, λ=3, μ=1: p_K = 1/3, L = 9998, W = 4999;
        // c=1, λ=2, μ=1: p_K = 1/2, L = 9999, W = 9999 (to 40 digits).
        assert_rel(mmck_blocking(2, 10_000, 3.0, 1.0), 1.0 / 3.0, TIGHT);
        assert_rel(mmck_mean_in_system(2, 10_000, 3.0, 1.0), 9998.0, TIGHT);
        assert_rel(mmck_mean_response(2, 10_000, 3.0, 1.0), 4999.0, TIGHT);
        assert_rel(mmck_blocking(1, 10_000, 2.0, 1.0), 0.5, TIGHT);
        assert_rel(mmck_mean_in_system(1, 10_000, 2.0, 1.0), 9999.0, TIGHT);
        assert_rel(mmck_mean_response(1, 10_000, 2.0, 1.0), 9999.0, TIGHT);
        // Many servers, heavy overload, big buffer.
        let p = mmck_blocking(256, 10_000, 500.0, 1.0);
        assert_rel(p, 1.0 - 256.0 / 500.0, TIGHT);
    }

    #[test]
    fn mmck_zero_arrivals() {
        assert_eq!(mmck_blocking(2, 5, 0.0, 1.0), 0.0);
        assert_eq!(mmck_mean_in_system(2, 5, 0.0, 1.0), 0.0);
        assert_rel(mmck_mean_response(2, 5, 0.0, 4.0), 0.25, TIGHT);
    }

    #[test]
    #[should_panic(expected = "K >= c")]
    fn mmck_capacity_below_servers_panics() {
        mmck_blocking(4, 3, 1.0, 1.0);
    }

    #[test]
    fn md1_values() {
        // λ = 0.5, D = 1: ρ = 0.5, W_q = 0.5 / (2·0.5) = 0.5.
        assert_rel(md1_mean_wait(0.5, 1.0), 0.5, TIGHT);
        // λ = 8, D = 0.1: ρ = 0.8, W_q = 0.08 / 0.4 = 0.2.
        assert_rel(md1_mean_wait(8.0, 0.1), 0.2, TIGHT);
        assert_eq!(md1_mean_wait(0.0, 1.0), 0.0);
    }

    #[test]
    fn md1_equals_mg1_with_deterministic_service() {
        for &(lambda, d) in &[(0.5, 1.0), (8.0, 0.1), (0.99, 1.0), (3.0, 0.25)] {
            assert_rel(md1_mean_wait(lambda, d), mg1_mean_wait(lambda, d, d * d), TIGHT);
        }
    }

    #[test]
    fn mm1_equals_mg1_with_exponential_service() {
        for &(lambda, mu) in &[(0.5, 1.0), (3.0, 4.0), (9.9, 10.0)] {
            let m = 1.0 / mu;
            assert_rel(mg1_mean_wait(lambda, m, 2.0 / (mu * mu)), mmc_mean_wait(1, lambda, mu), TIGHT);
        }
    }

    #[test]
    fn md1_is_half_mm1() {
        for &(lambda, mu) in &[(0.5, 1.0), (3.0, 4.0)] {
            assert_rel(md1_mean_wait(lambda, 1.0 / mu), 0.5 * mmc_mean_wait(1, lambda, mu), TIGHT);
        }
    }

    #[test]
    #[should_panic(expected = "rho")]
    fn md1_unstable_panics() {
        md1_mean_wait(1.0, 1.0);
    }

    #[test]
    #[should_panic(expected = "not the variance")]
    fn mg1_rejects_variance_for_second_moment() {
        // Deterministic service has variance 0, but E[S²] = D² = 1.
        mg1_mean_wait(0.5, 1.0, 0.0);
    }

    #[test]
    fn std_error_values() {
        assert_rel(std_error(4.0, 16.0), 0.5, TIGHT);
        assert_rel(std_error(2.0, 2.0), 1.0, TIGHT);
        assert_eq!(std_error(0.0, 10.0), 0.0);
    }

    #[test]
    #[should_panic(expected = "number of batches")]
    fn std_error_zero_batches_panics() {
        std_error(1.0, 0.0);
    }
}
